import Foundation

/// The limits that keep one server answering under load and bad input. Every request that would
/// exceed one gets a 4xx JSON error (or a 429/503/504), never a crash.
public struct ServeLimits: Sendable {
    /// Largest request body accepted (413 above).
    public var maxBodyBytes = 1 << 20
    /// Texts (or sentences) per classify/tag/translate request at most.
    public var maxTextsPerRequest = 64
    /// Characters per text at most (a classifier keeps its last `max_length` tokens anyway).
    public var maxTextCharacters = 20_000
    /// `max_tokens` of a generation at most.
    public var maxGeneratedTokens = 512
    /// How long the first request of a batch waits for others before the forward pass runs.
    public var batchWait: Duration = .milliseconds(2)
    /// Texts per forward pass at most.
    public var maxBatchTexts = 64
    /// Texts waiting for a forward pass at most, per model; more are refused with 429.
    public var queueCapacity = 512
    /// How much lower (nice increment, 0 … 19) the scheduling priority of the threads running
    /// classify/tag/translate forward passes is: when the CPU is contended, a generation's steps
    /// (latency: the first token) go before a batch's (throughput), which waits a little longer.
    /// 0 by default: on the shared machine (load 17–26) a nicer batch thread lost classify
    /// throughput to other processes without a measurable first-token gain (BENCHMARKS.md).
    public var batchThreadNice: Int32 = 0
    /// Generations running at once at most (each on its own thread); more wait for a slot.
    public var concurrentGenerations = 8
    /// Generations running or waiting at most; more are refused with 429.
    public var generationQueueCapacity = 64
    /// A request still waiting or running after this long is answered 504 (a generation stops
    /// with `"stopped": "timeout"`).
    public var requestTimeout: Duration = .seconds(10)

    public init() {}
}
