import Foundation
import Hummingbird
import RNNCore
import RNNServeAPI

/// An error answered to the client: an HTTP status and a one-line message, sent as
/// `{"error": {"status": 400, "message": "..."}}`.
public struct APIError: Error, Sendable, HTTPResponseError {
    public var status: HTTPResponse.Status
    public var message: String

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        jsonResponse(status: status, ErrorBody(error: .init(status: Int(status.code), message: message)))
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, message) }
    static let overloaded = APIError(.tooManyRequests, "the server is busy: too many requests are waiting; retry shortly")
    static let timedOut = APIError(.gatewayTimeout, "the request took longer than the server's time limit")
    static let shuttingDown = APIError(.serviceUnavailable, "the server is shutting down")
}

/// The JSON body of every error.
struct ErrorBody: Codable, Sendable {
    struct Detail: Codable, Sendable {
        var status: Int
        var message: String
    }
    var error: Detail
}

/// Turns every error thrown below it into a JSON error response: `APIError`s and the request
/// checks' `RequestRejection`s keep their status,
/// Hummingbird's `HTTPError`s (unknown route, body too large) keep theirs with a JSON body, a
/// library `RNNError` is a 400 with its message (it describes the input), anything else a 500.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let limits: ServeLimits

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let rejection as RequestRejection {
            return try APIError(HTTPResponse.Status(code: rejection.status), rejection.message).response(from: request, context: context)
        } catch let error as HTTPError {
            let message = switch error.status {
            case .notFound: "no such endpoint: \(request.method) \(request.uri.path)"
            case .contentTooLarge: "the request body is larger than the server accepts (\(limits.maxBodyBytes) bytes)"
            default: error.body ?? error.status.reasonPhrase
            }
            return try APIError(error.status, message).response(from: request, context: context)
        } catch let error as RNNError {
            return try APIError(.badRequest, error.message).response(from: request, context: context)
        } catch {
            context.logger.error("internal error: \(error)")
            return try APIError(.internalServerError, "internal error").response(from: request, context: context)
        }
    }
}

/// A JSON response with sorted keys (stable output for tests and diffs).
func jsonResponse(status: HTTPResponse.Status = .ok, _ value: some Encodable) -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let data = (try? encoder.encode(value)) ?? Data(#"{"error":{"status":500,"message":"response not encodable"}}"#.utf8)
    return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}
