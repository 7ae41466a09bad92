import Dispatch
import RNNCore

// The directions of a recurrent layer: the type-erased runner a layer holds per direction, running
// two directions at once, and reversing sequences for the backward direction and `goBackwards`.

/// Type-erased view of a `SequenceRunner`, so a layer can hold runners of any cell.
protocol DirectionRunning: AnyObject {
    func forward(input: UnsafePointer<Float>, steps: Int, rows: Int, lengths: [Int32],
                 h0: UnsafePointer<Float>, c0: UnsafePointer<Float>, keepsCache: Bool, lookup: InputGateLookup?)
    func backward(outputGradient: UnsafePointer<Float>?, outputStride: Int,
                  finalHiddenGradient: UnsafePointer<Float>?, finalCellGradient: UnsafePointer<Float>?,
                  input: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                  initialHiddenGradient: UnsafeMutablePointer<Float>,
                  initialCellGradient: UnsafeMutablePointer<Float>?)
    func addInputGradient(into inputGradient: UnsafeMutablePointer<Float>)
    func outputState(step t: Int) -> UnsafePointer<Float>
    func produced(row: Int, step t: Int) -> Bool
    var recordsStateGradientNorms: Bool { get set }
    var stateGradientNorms: [Float] { get }
    var finalHidden: UnsafePointer<Float> { get }
    var finalCell: UnsafePointer<Float> { get }
}

extension SequenceRunner: DirectionRunning {}

extension DirectionRunning {
    /// A forward that keeps the gate caches for backward.
    func forward(input: UnsafePointer<Float>, steps: Int, rows: Int, lengths: [Int32],
                 h0: UnsafePointer<Float>, c0: UnsafePointer<Float>) {
        forward(input: input, steps: steps, rows: rows, lengths: lengths, h0: h0, c0: c0, keepsCache: true, lookup: nil)
    }
}

/// Runs `body(direction)` for each of `count` directions. Two directions are independent until
/// they are merged, so with a BLAS budget of two or more threads they run at once, one per
/// thread, each with a single-threaded BLAS (OpenBLAS's thread count is global, so it is set
/// for the duration and restored). Measured on the imdb-bigru shapes: see BENCHMARKS.md.
func forEachDirection(_ count: Int, _ body: (Int) -> Void) {
    let threads = BLAS.threads
    guard count == 2, threads >= 2 else {
        for direction in 0..<count { body(direction) }
        return
    }
    BLAS.setThreads(1)
    defer { BLAS.setThreads(threads) }
    // Safe to share: each direction writes only its own runner's buffers, its own parameters'
    // gradients and its own slices of the state gradients; both only read the layer input.
    withoutActuallyEscaping(body) { body in
        let work = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: count) { work.value($0) }
    }
}

/// Hands a value to `concurrentPerform` whose thread safety the caller has checked by hand.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Reverses the first `lengths[b]` steps of every sequence b of (T, B) token ids; padding stays.
func reverseTokenSequences(_ tokens: [Int32], batch B: Int, lengths: [Int]) -> [Int32] {
    var result = tokens
    for row in 0..<B {
        let length = lengths[row]
        for t in 0..<length { result[t * B + row] = tokens[(length - 1 - t) * B + row] }
    }
    return result
}

/// Reverses the first `lengths[b]` steps of every sequence b of a (T, B, F) tensor; padding stays.
public func reverseSequences(_ tensor: Tensor, lengths: [Int]) -> Tensor {
    let T = tensor.shape[0], B = tensor.shape[1], F = tensor.count / max(T * B, 1)
    var result = tensor
    tensor.withUnsafeBufferPointer { source in
        result.withUnsafeMutableBufferPointer { target in
            for row in 0..<B {
                let length = lengths[row]
                for t in 0..<length {
                    let from = ((length - 1 - t) * B + row) * F, to = (t * B + row) * F
                    for f in 0..<F { target[to + f] = source[from + f] }
                }
            }
        }
    }
    return result
}
