import Foundation
import RNN
import RNNCore
import XCTest

/// Metrics on small cases worked out by hand in the comments.
final class MetricsTests: XCTestCase {
    // (truth, prediction) pairs: (0,0) (1,1) (2,1) (2,2) (1,2) (1,0).
    private let predictions = [0, 1, 1, 2, 2, 0]
    private let targets = [0, 1, 2, 2, 1, 1]

    func testConfusionMatrixAndPerClassScores() throws {
        let matrix = try ConfusionMatrix(predictions: predictions, targets: targets, classCount: 3)
        XCTAssertEqual(matrix.counts, [1, 0, 0,
                                       1, 1, 1,
                                       0, 1, 1])
        XCTAssertEqual(matrix.total, 6)
        XCTAssertEqual(matrix.accuracy, 0.5)
        XCTAssertEqual(try Metrics.accuracy(predictions: predictions, targets: targets), 0.5)
        // Class 0: TP 1, FP 1, FN 0.  Class 1: TP 1, FP 1, FN 2.  Class 2: TP 1, FP 1, FN 1.
        XCTAssertEqual([0, 1, 2].map(matrix.precision(of:)), [0.5, 0.5, 0.5])
        XCTAssertEqual([0, 1, 2].map(matrix.recall(of:)), [1, 1.0 / 3, 0.5])
        XCTAssertEqual(matrix.f1(of: 0), 2.0 / 3, accuracy: 1e-12)   // 2 / (2 + 1 + 0)
        XCTAssertEqual(matrix.f1(of: 1), 0.4, accuracy: 1e-12)        // 2 / (2 + 1 + 2)
        XCTAssertEqual(matrix.f1(of: 2), 0.5, accuracy: 1e-12)        // 2 / (2 + 1 + 1)
        XCTAssertEqual(matrix.macroPrecision, 0.5, accuracy: 1e-12)
        XCTAssertEqual(matrix.macroRecall, (1 + 1.0 / 3 + 0.5) / 3, accuracy: 1e-12)
        XCTAssertEqual(matrix.macroF1, (2.0 / 3 + 0.4 + 0.5) / 3, accuracy: 1e-12)
    }

    func testMacroAveragesSkipClassesThatNeverOccur() throws {
        let withUnusedClass = try ConfusionMatrix(predictions: predictions, targets: targets, classCount: 4)
        let matrix = try ConfusionMatrix(predictions: predictions, targets: targets, classCount: 3)
        XCTAssertEqual(withUnusedClass.presentClasses, [0, 1, 2])
        XCTAssertEqual(withUnusedClass.macroF1, matrix.macroF1, accuracy: 1e-12)
        XCTAssertEqual(withUnusedClass.f1(of: 3), 0, "0/0 counts as 0")
    }

    func testBinaryScoresFromLogits() throws {
        let logits = try Tensor(shape: [5], scalars: [2, -1, 0.5, -3, 0])
        let predicted = Metrics.binaryPredictions(logits: logits)
        XCTAssertEqual(predicted, [1, 0, 1, 0, 0], "logit 0 is probability 1/2: not positive")
        // Truth 1 1 0 0 0: TP 1 (first), FN 1 (second), FP 1 (third).
        let matrix = try ConfusionMatrix(predictions: predicted, targets: [1, 1, 0, 0, 0], classCount: 2)
        XCTAssertEqual(matrix.truePositives(1), 1)
        XCTAssertEqual(matrix.falsePositives(1), 1)
        XCTAssertEqual(matrix.falseNegatives(1), 1)
        XCTAssertEqual(matrix.precision(of: 1), 0.5)
        XCTAssertEqual(matrix.recall(of: 1), 0.5)
        XCTAssertEqual(matrix.f1(of: 1), 0.5)
        let nothingPredicted = try ConfusionMatrix(predictions: [0, 0], targets: [1, 0], classCount: 2)
        XCTAssertEqual(nothingPredicted.precision(of: 1), 0)
        XCTAssertEqual(nothingPredicted.recall(of: 1), 0)
    }

    func testBatchesAddUp() throws {
        var matrix = try ConfusionMatrix(classCount: 3)
        try matrix.add(predictions: Array(predictions[0..<2]), targets: Array(targets[0..<2]))
        try matrix.add(predictions: Array(predictions[2...]), targets: Array(targets[2...]))
        XCTAssertEqual(matrix, try ConfusionMatrix(predictions: predictions, targets: targets, classCount: 3))
    }

    func testBadInputThrows() throws {
        XCTAssertThrowsError(try ConfusionMatrix(predictions: [0, 3], targets: [0, 1], classCount: 3)) {
            XCTAssertEqual(($0 as? RNNError)?.message, "confusion matrix: class id 3 is outside 0..<3")
        }
        XCTAssertThrowsError(try ConfusionMatrix(predictions: [0], targets: [0, 1], classCount: 3))
        XCTAssertThrowsError(try ConfusionMatrix(classCount: 0))
        XCTAssertThrowsError(try Metrics.accuracy(predictions: [1], targets: []))
        XCTAssertEqual(try Metrics.accuracy(predictions: [], targets: []), 0)
    }

    func testPerplexityAndBitsPerToken() throws {
        // A uniform guess over 4 symbols: H = ln 4 nats = 2 bits, perplexity 4.
        XCTAssertEqual(Metrics.perplexity(crossEntropy: log(4)), 4, accuracy: 1e-12)
        XCTAssertEqual(Metrics.bitsPerToken(crossEntropy: log(4)), 2, accuracy: 1e-12)

        // Batches are weighted by tokens: (1.0 × 2 + 4.0 × 1) / 3 = 2, not (1 + 4) / 2.
        var accumulator = CrossEntropyAccumulator()
        accumulator.add(meanLoss: 1, tokens: 2, correct: 1)
        accumulator.add(meanLoss: 4, tokens: 1)
        XCTAssertEqual(accumulator.meanCrossEntropy, 2)
        XCTAssertEqual(accumulator.perplexity, exp(2), accuracy: 1e-12)
        XCTAssertEqual(accumulator.accuracy, 1.0 / 3, accuracy: 1e-12)

        // Uniform logits over 8 classes: cross-entropy ln 8, perplexity 8, 3 bits per token.
        var uniform = CrossEntropyAccumulator()
        uniform.add(try SoftmaxCrossEntropy.compute(logits: Tensor(shape: [3, 8]), targets: [1, 7, -100]))
        XCTAssertEqual(uniform.tokenCount, 2)
        XCTAssertEqual(uniform.perplexity, 8, accuracy: 1e-5)
        XCTAssertEqual(uniform.bitsPerToken, 3, accuracy: 1e-6)
        XCTAssertEqual(CrossEntropyAccumulator().meanCrossEntropy, 0)
    }
}
