import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import RNNServe

/// Keeps openapi.yaml true: it describes exactly the routes the router has, and every described
/// operation, sent its example, answers with a status the description lists.
final class OpenAPISpecTests: XCTestCase {
    struct Operation: Equatable {
        var method: String
        var path: String
        var statuses: [Int] = []
        var example: String?
    }

    /// The operations of the spec, read from its layout (paths at two spaces, methods at four,
    /// response codes at eight, one-line examples).
    static func operations() -> [Operation] {
        var operations: [Operation] = []
        var path: String?
        for line in OpenAPISpec.yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "components:" { break }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                operations.append(Operation(method: line.dropFirst(4).dropLast().uppercased(), path: path))
            } else if line.hasPrefix("        \""), !line.hasPrefix("         "), let code = Int(line.dropFirst(9).prefix(3)) {
                operations[operations.count - 1].statuses.append(code)
            } else if line.hasPrefix("            example: ") {
                operations[operations.count - 1].example = String(line.dropFirst("            example: ".count))
            }
        }
        return operations
    }

    func testTheSpecDescribesExactlyTheRoutesTheRouterHas() throws {
        let described = Set(Self.operations().map { "\($0.method) \($0.path)" })
        XCTAssertEqual(described.count, Self.operations().count, "an operation is described twice")
        XCTAssertEqual(described, Set(Server.routes))
        let router = Server.router(registry: try ModelRegistry(models: []), limits: ServeLimits())
        let routed = Set(router.routes.map { route -> String in
            let path = route.path.description
            return "\(route.method) \(path.hasPrefix("/") ? path : "/" + path)"
        })
        XCTAssertEqual(routed, described)
        XCTAssertTrue(Self.operations().allSatisfy { !$0.statuses.isEmpty }, "every operation lists its responses")
    }

    func testEveryDescribedOperationAnswersItsExampleWithADescribedStatus() async throws {
        let operations = Self.operations()
        try await withServer(try TinyModels.registry()) { client in
            for operation in operations {
                let response: TestResponse
                if operation.method == "POST" {
                    let example = try XCTUnwrap(operation.example, "\(operation.path) has no example request")
                    XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(example.utf8)), "the example of \(operation.path) is JSON")
                    response = try await client.post(operation.path, example)
                } else {
                    response = try await client.get(operation.path)
                }
                XCTAssertTrue(operation.statuses.contains(Int(response.status.code)),
                              "\(operation.method) \(operation.path) answered \(response.status.code), not one of \(operation.statuses)")
                if operation.path.hasPrefix("/v1/") || operation.path == "/healthz" {
                    XCTAssertEqual(response.headers[.contentType], "application/json; charset=utf-8", operation.path)
                }
            }
        }
    }
}
