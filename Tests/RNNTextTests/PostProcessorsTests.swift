import XCTest
@testable import RNNText

final class PostProcessorsTests: XCTestCase {
    private let a = Encoding(ids: [10, 11], tokens: ["x", "y"])
    private let b = Encoding(ids: [12], tokens: ["z"])
    private let bertTemplate = PostProcessor.template(
        single: [.specialToken("[CLS]", typeId: 0), .sequence(second: false, typeId: 0), .specialToken("[SEP]", typeId: 0)],
        pair: [.specialToken("[CLS]", typeId: 0), .sequence(second: false, typeId: 0), .specialToken("[SEP]", typeId: 0),
               .sequence(second: true, typeId: 1), .specialToken("[SEP]", typeId: 1)],
        specialTokens: [.init(name: "[CLS]", ids: [2], tokens: ["[CLS]"]), .init(name: "[SEP]", ids: [3], tokens: ["[SEP]"])])

    func testTemplateSingleAndPair() {
        let single = bertTemplate.process(a, nil, addSpecialTokens: true)
        XCTAssertEqual(single.ids, [2, 10, 11, 3])
        XCTAssertEqual(single.specialTokensMask, [1, 0, 0, 1])
        let pair = bertTemplate.process(a, b, addSpecialTokens: true)
        XCTAssertEqual(pair.ids, [2, 10, 11, 3, 12, 3])
        XCTAssertEqual(pair.typeIds, [0, 0, 0, 0, 1, 1])
        XCTAssertEqual(bertTemplate.process(a, b, addSpecialTokens: false).ids, [10, 11, 12])
        XCTAssertEqual(bertTemplate.addedTokenCount(pair: false), 2)
        XCTAssertEqual(bertTemplate.addedTokenCount(pair: true), 3)
    }

    func testBertProcessingMatchesTheTemplate() {
        let bert = PostProcessor.bert(sep: ("[SEP]", 3), cls: ("[CLS]", 2))
        XCTAssertEqual(bert.process(a, b, addSpecialTokens: true), bertTemplate.process(a, b, addSpecialTokens: true))
        XCTAssertEqual(bert.process(a, nil, addSpecialTokens: true).tokens, ["[CLS]", "x", "y", "[SEP]"])
        XCTAssertEqual(PostProcessor.byteLevel(addPrefixSpace: true, trimOffsets: true, useRegex: true).process(a, nil, addSpecialTokens: true), a)
    }

    func testJSONRoundTripAndUnsupported() throws {
        for p in [bertTemplate, .bert(sep: ("[SEP]", 3), cls: ("[CLS]", 2)), .byteLevel(addPrefixSpace: false, trimOffsets: true, useRegex: true)] {
            XCTAssertEqual(try PostProcessor(json: p.json), p)
        }
        XCTAssertThrowsError(try PostProcessor(json: .object([("type", .string("RobertaProcessing"))]))) { error in
            XCTAssertEqual("\(error)", "tokenizer.json: unsupported post_processor 'RobertaProcessing'")
        }
    }
}
