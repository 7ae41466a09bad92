import Foundation

/// How a weight matrix gets its first values. Matrices are in PyTorch orientation,
/// (fanOut, fanIn) = (rows, columns): `weight_ih` is (G·H, inputSize), `weight_hh` is (G·H, H).
public enum Initializer: Sendable, Equatable, Codable {
    /// All zeros.
    case zeros
    /// One value everywhere (e.g. the LSTM forget-gate bias of 1).
    case constant(Float)
    /// Uniform in ±bound. PyTorch's RNN default uses bound = 1/√hiddenSize for every parameter.
    case uniform(bound: Float)
    /// Keras' default kernel initializer: uniform in ±√(6 / (fanIn + fanOut)).
    case glorotUniform
    /// Keras' default recurrent initializer: a (semi-)orthogonal matrix times `gain`.
    case orthogonal(gain: Float)
    /// Standard normal times `std`.
    case normal(std: Float)

    /// Fills `count = rows · columns` floats at `pointer`. A vector is `rows = count, columns = 1`.
    public func fill(_ pointer: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
                     using generator: inout SeededGenerator) {
        let count = rows * columns
        switch self {
        case .zeros:
            pointer.update(repeating: 0, count: count)
        case .constant(let value):
            pointer.update(repeating: value, count: count)
        case .uniform(let bound):
            for index in 0..<count { pointer[index] = (2 * generator.nextUnitFloat() - 1) * bound }
        case .glorotUniform:
            let bound = Float((6.0 / Double(rows + columns)).squareRoot())
            for index in 0..<count { pointer[index] = (2 * generator.nextUnitFloat() - 1) * bound }
        case .normal(let std):
            for index in 0..<count { pointer[index] = Float(generator.nextNormal()) * std }
        case .orthogonal(let gain):
            let matrix = orthogonalMatrix(rows: rows, columns: columns, using: &generator)
            for index in 0..<count { pointer[index] = Float(matrix[index]) * gain }
        }
    }
}

/// A (rows, columns) matrix with orthonormal columns (rows ≥ columns) or orthonormal rows
/// (rows < columns): modified Gram–Schmidt on a standard normal matrix, in Double. Like
/// `QR` with the signs of R's diagonal folded in, this gives a uniformly random orthogonal matrix.
func orthogonalMatrix(rows: Int, columns: Int, using generator: inout SeededGenerator) -> [Double] {
    // Orthonormalize the `vectorCount` vectors of length `length`, then lay them out.
    let tall = rows >= columns
    let vectorCount = tall ? columns : rows
    let length = tall ? rows : columns
    var vectors = [[Double]](repeating: [], count: vectorCount)
    for v in 0..<vectorCount {
        var vector = (0..<length).map { _ in generator.nextNormal() }
        for _ in 0..<2 {  // two passes keep orthogonality at Double precision
            for previous in vectors[0..<v] {
                var dot = 0.0
                for i in 0..<length { dot += vector[i] * previous[i] }
                for i in 0..<length { vector[i] -= dot * previous[i] }
            }
        }
        var norm = 0.0
        for value in vector { norm += value * value }
        norm = norm.squareRoot()
        if norm < 1e-12 {  // vanishingly unlikely; draw again
            vector = (0..<length).map { _ in generator.nextNormal() }
            norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        }
        vectors[v] = vector.map { $0 / norm }
    }
    var matrix = [Double](repeating: 0, count: rows * columns)
    for v in 0..<vectorCount {
        for i in 0..<length {
            if tall { matrix[i * columns + v] = vectors[v][i] } else { matrix[v * columns + i] = vectors[v][i] }
        }
    }
    return matrix
}
