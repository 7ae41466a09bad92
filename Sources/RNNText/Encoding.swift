import RNNCore

/// The result of encoding one text (or pair of texts): parallel arrays, one entry per token.
public struct Encoding: Equatable, Sendable {
    public var ids: [Int]
    public var tokens: [String]
    /// Segment of each token: 0 for the first text, 1 for the second of a pair (as the template says).
    public var typeIds: [Int]
    /// 1 for real tokens, 0 for padding.
    public var attentionMask: [Int]
    /// 1 for tokens added by the post-processor (`[CLS]`, `[SEP]`) and padding, else 0.
    public var specialTokensMask: [Int]

    public init(ids: [Int] = [], tokens: [String] = [], typeIds: [Int]? = nil, attentionMask: [Int]? = nil,
                specialTokensMask: [Int]? = nil) {
        self.ids = ids
        self.tokens = tokens
        self.typeIds = typeIds ?? Array(repeating: 0, count: ids.count)
        self.attentionMask = attentionMask ?? Array(repeating: 1, count: ids.count)
        self.specialTokensMask = specialTokensMask ?? Array(repeating: 0, count: ids.count)
    }

    public var count: Int { ids.count }

    mutating func append(_ other: Encoding) {
        ids += other.ids
        tokens += other.tokens
        typeIds += other.typeIds
        attentionMask += other.attentionMask
        specialTokensMask += other.specialTokensMask
    }

    /// Keeps the first (`.right`) or last (`.left`) `maxLength` tokens.
    mutating func truncate(to maxLength: Int, direction: Truncation.Direction) {
        guard count > maxLength else { return }
        let keep = direction == .right ? 0..<maxLength : (count - maxLength)..<count
        ids = Array(ids[keep]); tokens = Array(tokens[keep]); typeIds = Array(typeIds[keep])
        attentionMask = Array(attentionMask[keep]); specialTokensMask = Array(specialTokensMask[keep])
    }

    /// Pads to `length` with `padding`'s token; never shortens.
    mutating func pad(to length: Int, with padding: Padding) {
        let n = length - count
        guard n > 0 else { return }
        let ids = Array(repeating: padding.padId, count: n), tokens = Array(repeating: padding.padToken, count: n)
        let types = Array(repeating: padding.padTypeId, count: n)
        let zeros = Array(repeating: 0, count: n), ones = Array(repeating: 1, count: n)
        if padding.direction == .right {
            self.ids += ids; self.tokens += tokens; typeIds += types; attentionMask += zeros; specialTokensMask += ones
        } else {
            self.ids = ids + self.ids; self.tokens = tokens + self.tokens; typeIds = types + typeIds
            attentionMask = zeros + attentionMask; specialTokensMask = ones + specialTokensMask
        }
    }
}

/// The `"truncation"` settings: the longest an encoding may be, special tokens included.
public struct Truncation: Equatable, Sendable {
    public enum Direction: String, Sendable { case left = "Left", right = "Right" }
    public enum Strategy: String, Sendable { case longestFirst = "LongestFirst", onlyFirst = "OnlyFirst", onlySecond = "OnlySecond" }

    public var maxLength: Int
    public var strategy: Strategy
    public var direction: Direction

    public init(maxLength: Int, strategy: Strategy = .longestFirst, direction: Direction = .right) {
        self.maxLength = maxLength
        self.strategy = strategy
        self.direction = direction
    }

    init(json: JSONValue) throws {
        let f = try JSONFields(json, component: "truncation")
        guard try f.int("stride", default: 0) == 0 else {
            throw RNNError("tokenizer.json: unsupported truncation with stride > 0 (overflowing windows)")
        }
        guard let strategy = Strategy(rawValue: try f.optionalString("strategy") ?? "LongestFirst") else {
            throw f.missing("strategy", "LongestFirst, OnlyFirst or OnlySecond")
        }
        guard let direction = Direction(rawValue: try f.optionalString("direction") ?? "Right") else {
            throw f.missing("direction", "Left or Right")
        }
        self.init(maxLength: try f.int("max_length"), strategy: strategy, direction: direction)
    }

    var json: JSONValue {
        .object([("direction", .string(direction.rawValue)), ("max_length", .int(maxLength)),
                 ("strategy", .string(strategy.rawValue)), ("stride", .int(0))])
    }

    /// Truncates `a` (and `b`) so that together they hold at most `maxLength - reserved` tokens.
    func apply(_ a: inout Encoding, _ b: inout Encoding?, reserved: Int) throws {
        let limit = max(0, maxLength - reserved)
        guard a.count + (b?.count ?? 0) > limit else { return }
        guard var second = b else {
            if strategy == .onlySecond { throw RNNError("truncation: strategy OnlySecond needs a pair of texts") }
            a.truncate(to: limit, direction: direction)
            return
        }
        switch strategy {
        case .longestFirst:
            var n1 = a.count, n2 = second.count
            let swapped = n1 > n2
            if swapped { swap(&n1, &n2) }
            n2 = n1 > limit ? n1 : max(n1, limit - n1)
            if n1 + n2 > limit { n1 = limit / 2; n2 = n1 + limit % 2 }
            if swapped { swap(&n1, &n2) }
            a.truncate(to: n1, direction: direction)
            second.truncate(to: n2, direction: direction)
        case .onlyFirst:
            guard second.count < limit else { throw RNNError("truncation: the second text alone is longer than max_length \(maxLength)") }
            a.truncate(to: limit - second.count, direction: direction)
        case .onlySecond:
            guard a.count < limit else { throw RNNError("truncation: the first text alone is longer than max_length \(maxLength)") }
            second.truncate(to: limit - a.count, direction: direction)
        }
        b = second
    }
}

/// The `"padding"` settings: pad every encoding to a fixed length or to the longest in a batch.
public struct Padding: Equatable, Sendable {
    public enum Strategy: Equatable, Sendable { case batchLongest, fixed(Int) }
    public enum Direction: String, Sendable { case left = "Left", right = "Right" }

    public var strategy: Strategy
    public var direction: Direction
    public var padToMultipleOf: Int?
    public var padId: Int
    public var padTypeId: Int
    public var padToken: String

    public init(strategy: Strategy = .batchLongest, direction: Direction = .right, padToMultipleOf: Int? = nil,
                padId: Int = 0, padTypeId: Int = 0, padToken: String = "[PAD]") {
        self.strategy = strategy
        self.direction = direction
        self.padToMultipleOf = padToMultipleOf
        self.padId = padId
        self.padTypeId = padTypeId
        self.padToken = padToken
    }

    init(json: JSONValue) throws {
        let f = try JSONFields(json, component: "padding")
        let strategy: Strategy
        if let s = json["strategy"], s.stringValue == "BatchLongest" {
            strategy = .batchLongest
        } else if let fixed = json["strategy"]?["Fixed"]?.intValue {
            strategy = .fixed(fixed)
        } else {
            throw f.missing("strategy", "\"BatchLongest\" or {\"Fixed\": n}")
        }
        guard let direction = Direction(rawValue: try f.optionalString("direction") ?? "Right") else {
            throw f.missing("direction", "Left or Right")
        }
        let multiple = json["pad_to_multiple_of"]?.intValue
        self.init(strategy: strategy, direction: direction, padToMultipleOf: multiple,
                  padId: try f.int("pad_id", default: 0), padTypeId: try f.int("pad_type_id", default: 0),
                  padToken: try f.optionalString("pad_token") ?? "[PAD]")
    }

    var json: JSONValue {
        let strategyJSON: JSONValue
        switch strategy {
        case .batchLongest: strategyJSON = .string("BatchLongest")
        case let .fixed(n): strategyJSON = .object([("Fixed", .int(n))])
        }
        return .object([("strategy", strategyJSON), ("direction", .string(direction.rawValue)),
                        ("pad_to_multiple_of", padToMultipleOf.map(JSONValue.int) ?? .null), ("pad_id", .int(padId)),
                        ("pad_type_id", .int(padTypeId)), ("pad_token", .string(padToken))])
    }

    /// Pads all `encodings` to the same length.
    func apply(_ encodings: inout [Encoding]) {
        guard !encodings.isEmpty else { return }
        var length: Int
        switch strategy {
        case .batchLongest: length = encodings.map(\.count).max() ?? 0
        case let .fixed(n): length = n
        }
        if let m = padToMultipleOf, m > 0, length % m > 0 { length += m - length % m }
        for i in encodings.indices { encodings[i].pad(to: length, with: self) }
    }
}
