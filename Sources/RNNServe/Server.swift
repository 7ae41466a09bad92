import Foundation
import Hummingbird
import Logging

/// `rnn serve`: the HTTP API and web page over a registry of loaded models.
public enum Server {
    /// Every route the server answers, as "METHOD /path"; openapi.yaml describes exactly these.
    public static let routes = [
        "GET /", "GET /healthz", "GET /openapi.yaml", "GET /v1/models",
        "POST /v1/classify", "POST /v1/generate", "POST /v1/tag", "POST /v1/translate",
    ]

    /// The router: JSON errors for everything, including unknown routes and oversized bodies.
    public static func router(registry: ModelRegistry, limits: ServeLimits) -> Router<BasicRequestContext> {
        let endpoints = Endpoints(registry: registry, limits: limits, generations: GenerationRunner(limits: limits))
        let router = Router()
        router.add(middleware: JSONErrorMiddleware(limits: limits))
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: WebPage.html)))
        }
        router.get("/healthz", use: endpoints.health)
        router.get("/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPISpec.yaml)))
        }
        router.get("/v1/models", use: endpoints.models)
        router.post("/v1/classify", use: endpoints.classify)
        router.post("/v1/generate", use: endpoints.generate)
        router.post("/v1/tag", use: endpoints.tag)
        router.post("/v1/translate", use: endpoints.translate)
        return router
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully: stops accepting connections,
    /// finishes the requests in flight (queued forward passes and running generations included).
    public static func run(registry: ModelRegistry, limits: ServeLimits, host: String, port: Int,
                           onReady: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        var logger = Logger(label: "rnn-serve")
        logger.logLevel = .warning
        let app = Application(router: router(registry: registry, limits: limits),
                              configuration: .init(address: .hostname(host, port: port), serverName: "rnn-serve"),
                              onServerRunning: { channel in onReady(channel.localAddress?.port ?? port) },
                              logger: logger)
        try await app.runService()
        registry.close()
    }
}
