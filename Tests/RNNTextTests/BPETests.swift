import XCTest
@testable import RNNText

final class BPETests: XCTestCase {
    private func ids(_ m: BPEModel, _ word: String) -> [Int] {
        var ids: [Int] = []
        m.tokenize(Array(word.unicodeScalars), into: &ids)
        return ids
    }

    func testMergesByRankNotByOccurrence() throws {
        // "ab" (rank 1) then "aba" (rank 0, appears only after "ab"): the queue takes the new
        // rank-0 pair before the second "ab", as HuggingFace's merge_all does.
        let vocabulary = Vocabulary(["a", "b", "ab", "aba", "abab"])
        let m = try BPEModel(vocabulary: vocabulary, merges: [("ab", "a"), ("a", "b"), ("ab", "ab")])
        XCTAssertEqual(ids(m, "abab").map { vocabulary.tokens[$0] }, ["aba", "b"])
        XCTAssertEqual(ids(m, "ba"), [1, 0])
    }

    func testUnknownCharactersUnkFuseAndByteFallback() throws {
        let vocabulary = Vocabulary(["<unk>", "a", "<0xC3>", "<0xA9>"])
        let plain = try BPEModel(vocabulary: vocabulary, merges: [], unkToken: "<unk>")
        XCTAssertEqual(ids(plain, "axxa"), [1, 0, 0, 1])
        let fused = try BPEModel(vocabulary: vocabulary, merges: [], unkToken: "<unk>", fuseUnk: true)
        XCTAssertEqual(ids(fused, "axxa"), [1, 0, 1])
        let dropping = try BPEModel(vocabulary: vocabulary, merges: [])
        XCTAssertEqual(ids(dropping, "axa"), [1, 1], "no unk_token: unknown characters vanish")
        let bytes = try BPEModel(vocabulary: vocabulary, merges: [], unkToken: "<unk>", byteFallback: true)
        XCTAssertEqual(ids(bytes, "éx"), [2, 3, 0])
    }

    func testCachedAndFreshResultsAgree() throws {
        let vocabulary = Vocabulary(["a", "b", "ab"])
        let m = try BPEModel(vocabulary: vocabulary, merges: [("a", "b")])
        XCTAssertEqual(ids(m, "abba"), [2, 1, 0])
        XCTAssertEqual(ids(m, "abba"), [2, 1, 0])
    }

    func testLoadsBothMergeFormsAndRejectsBadInput() throws {
        let vocab = JSONValue.object([("a", .int(0)), ("b", .int(1)), ("ab", .int(2))])
        for merges in [JSONValue.array([.string("a b")]), .array([.array([.string("a"), .string("b")])])] {
            let m = try makeModel(json: .object([("type", .string("BPE")), ("vocab", vocab), ("merges", merges)]))
            var out: [Int] = []
            m.tokenize(["a", "b"], into: &out)
            XCTAssertEqual(out, [2])
        }
        XCTAssertThrowsError(try makeModel(json: .object([("type", .string("BPE")), ("dropout", .double(0.1)), ("vocab", vocab),
                                                          ("merges", .array([]))]))) { error in
            XCTAssertEqual("\(error)", "tokenizer.json: unsupported model 'BPE' with dropout 0.1 (only null)")
        }
        XCTAssertThrowsError(try makeModel(json: .object([("type", .string("BPE")), ("vocab", vocab),
                                                          ("merges", .array([.string("a c")]))]))) { error in
            XCTAssertEqual("\(error)", "tokenizer.json: BPE merge 'a c' uses a token that is not in the vocabulary")
        }
        XCTAssertThrowsError(try makeModel(json: .object([("type", .string("Unigram"))]))) { error in
            XCTAssertEqual("\(error)", "tokenizer.json: unsupported model 'Unigram'")
        }
    }

    func testJSONRoundTrip() throws {
        let m = try BPEModel(vocabulary: Vocabulary(["[UNK]", "a", "b", "ab"]), merges: [("a", "b")], unkToken: "[UNK]")
        let back = try XCTUnwrap(try makeModel(json: m.json) as? BPEModel)
        XCTAssertEqual(back.vocabulary, m.vocabulary)
        XCTAssertEqual(back.merges.map { [$0.0, $0.1] }, [["a", "b"]])
        XCTAssertEqual(back.unkToken, "[UNK]")
    }
}
