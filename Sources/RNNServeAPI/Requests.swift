import Foundation

// The JSON request bodies of `rnn serve` (snake_case on the wire, as in openapi.yaml). They live
// in this module, apart from the HTTP server, so that the fuzz target of the request decoding
// (Fuzz/Targets/serve_requests.swift) links without Hummingbird.

public struct ClassifyRequest: Decodable, Sendable {
    public var model: String?
    public var texts: [String]
}

public struct TagRequest: Decodable, Sendable {
    public var model: String?
    /// Sentences, words separated by whitespace.
    public var sentences: [String]
}

public struct TranslateRequest: Decodable, Sendable {
    public var model: String?
    public var texts: [String]
}

public struct GenerateRequest: Decodable, Sendable {
    public var model: String?
    public var prompt: String
    public var maxTokens: Int?
    public var temperature: Double?
    public var topK: Int?
    public var topP: Double?
    public var seed: UInt64?
    public var condition: String?
    public var stream: Bool?

    enum CodingKeys: String, CodingKey {
        case model, prompt, temperature, seed, condition, stream
        case maxTokens = "max_tokens", topK = "top_k", topP = "top_p"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        prompt = try container.decode(String.self, forKey: .prompt)
        maxTokens = try Self.integer(Int.self, .maxTokens, in: container)
        temperature = try container.decodeIfPresent(Double.self, forKey: .temperature)
        topK = try Self.integer(Int.self, .topK, in: container)
        topP = try container.decodeIfPresent(Double.self, forKey: .topP)
        seed = try Self.integer(UInt64.self, .seed, in: container)
        condition = try container.decodeIfPresent(String.self, forKey: .condition)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream)
    }

    /// An integer field. Foundation reports a number that is not one (2.5, -3 for a seed, 1e30)
    /// as "not valid JSON" without naming the field; this names it.
    private static func integer<T: FixedWidthInteger & Decodable>(_ type: T.Type, _ key: CodingKeys,
                                                                  in container: KeyedDecodingContainer<CodingKeys>) throws -> T? {
        do {
            return try container.decodeIfPresent(T.self, forKey: key)
        } catch let error as DecodingError {
            guard case .dataCorrupted = error else { throw error }  // a string, an array: described by type
            throw RequestRejection.badRequest("'\(key.stringValue)' must be an integer from \(T.min) to \(T.max)")
        } catch {  // Foundation's internal "number is not representable" error
            throw RequestRejection.badRequest("'\(key.stringValue)' must be an integer from \(T.min) to \(T.max)")
        }
    }
}

/// A request refused before it reaches a model: the HTTP status (400, 413) and a one-line
/// message naming the field. The server answers it as a JSON error body.
public struct RequestRejection: Error, Sendable, Equatable {
    public var status: Int
    public var message: String

    public init(status: Int, message: String) {
        self.status = status
        self.message = message
    }

    public static func badRequest(_ message: String) -> RequestRejection { RequestRejection(status: 400, message: message) }
}
