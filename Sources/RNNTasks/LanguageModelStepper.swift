import Foundation
import RNN
import RNNCore

/// One-token-at-a-time inference of a unidirectional `LanguageModel` for generation.
///
/// The general forward path runs every product through BLAS `sgemm`; with a single row (batch-1
/// generation) OpenBLAS spends most of its time packing the weight matrix (measured on the jokes
/// model: 85% of generation time in `sgemm_incopy` + `sgemm_kernel`). Here each product is a
/// matrix–vector product in SIMD over the weights in place, with buffers allocated once, and the
/// state of each history is a plain array. The arithmetic is the cells' own (PyTorch gate order):
///
///     LSTM: [i f g o] = W_ih x + b_ih + W_hh h + b_hh;  c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g);  h' = σ(o) ⊙ tanh(c')
///     GRU:  [r z] = σ(W_ih x + b_ih + W_hh h + b_hh)[r z];  n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn));
///           h' = (1 − z) ⊙ n + z ⊙ h
///     RNN:  h' = act(W_ih x + b_ih + W_hh h + b_hh)
///
/// Parameters are read from the model's store by their PyTorch names; the model must outlive the stepper.
final class LanguageModelStepper {
    /// The state of one history: hidden and (LSTM) cell state of every layer, (L·H) each.
    struct History {
        var hidden: [Float]
        var cell: [Float]
    }

    private struct Layer {
        let weightIH: UnsafePointer<Float>   // (G, inputSize)
        let weightHH: UnsafePointer<Float>   // (G, H)
        let biasIH: [Float]                  // (G), zeros without biases
        let biasHH: [Float]
        let inputSize: Int
    }

    let model: LanguageModel
    private let cell: CellType
    private let activation: Activation
    private let hiddenSize: Int
    private let gateSize: Int
    private let vocabularySize: Int
    private let embeddingDimension: Int
    private let layers: [Layer]
    private let embedding: UnsafePointer<Float>     // (V, E)
    private let outputWeight: UnsafePointer<Float>  // (V, H): fc.weight, or the embedding when tied
    private let outputBias: [Float]                 // (V)
    private var gx: [Float], gh: [Float], input: [Float]

    init(model: LanguageModel) throws {
        let config = model.config, recurrent = config.recurrent
        guard !recurrent.bidirectional, !recurrent.goBackwards else {
            throw RNNError("generation needs a unidirectional, forward-reading recurrent layer")
        }
        let store = model.store
        func values(_ name: String) throws -> UnsafePointer<Float> {
            guard let parameter = store.parameter(named: name) else { throw RNNError("language model: no parameter \(name)") }
            return store.readOnlyValues(of: parameter)
        }
        func vector(_ name: String, count: Int) throws -> [Float] {
            guard recurrent.bias || !name.contains("bias_") else { return [Float](repeating: 0, count: count) }
            return Array(UnsafeBufferPointer(start: try values(name), count: count))
        }
        self.model = model
        cell = recurrent.cell
        activation = recurrent.activation
        hiddenSize = recurrent.hiddenSize
        gateSize = recurrent.cell.gateCount * recurrent.hiddenSize
        vocabularySize = config.vocabularySize
        embeddingDimension = config.embeddingDimension
        layers = try (0..<recurrent.layers).map { layer in
            Layer(weightIH: try values("rnn.weight_ih_l\(layer)"), weightHH: try values("rnn.weight_hh_l\(layer)"),
                  biasIH: try vector("rnn.bias_ih_l\(layer)", count: recurrent.cell.gateCount * recurrent.hiddenSize),
                  biasHH: try vector("rnn.bias_hh_l\(layer)", count: recurrent.cell.gateCount * recurrent.hiddenSize),
                  inputSize: recurrent.layerInputSize(layer))
        }
        embedding = try values("embedding.weight")
        outputWeight = config.tieEmbeddings ? embedding : try values("fc.weight")
        outputBias = Array(UnsafeBufferPointer(start: try values("fc.bias"), count: config.vocabularySize))
        gx = [Float](repeating: 0, count: gateSize)
        gh = gx
        input = [Float](repeating: 0, count: max(config.embeddingDimension, recurrent.hiddenSize))
    }

    /// The zero state.
    func emptyHistory() -> History {
        let count = layers.count * hiddenSize
        return History(hidden: [Float](repeating: 0, count: count), cell: [Float](repeating: 0, count: cell == .lstm ? count : 0))
    }

    /// Feeds `token` to `history` and writes the next-token logits (V) into `logits`.
    func step(_ token: Int32, history: inout History, logits: UnsafeMutablePointer<Float>) {
        let H = hiddenSize
        input.withUnsafeMutableBufferPointer { x in
            x.baseAddress!.update(from: embedding + Int(token) * embeddingDimension, count: embeddingDimension)
        }
        // Layer 0's input projection of the token: a row of the folded table when it pays (see
        // `EmbeddingFold`: at once for a loaded model), else W_ih x + b_ih.
        let foldedRow = model.embeddingFold.inputGateTable(tokenCount: 1).map { $0 + Int(token) * gateSize }
        for (index, layer) in layers.enumerated() {
            if index == 0, let foldedRow {
                gx.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: foldedRow, count: gateSize) }
            } else {
                input.withUnsafeBufferPointer { x in
                    gx.withUnsafeMutableBufferPointer { out in
                        matrixVector(layer.weightIH, rows: gateSize, columns: layer.inputSize, x.baseAddress!, bias: layer.biasIH, into: out.baseAddress!)
                    }
                }
            }
            history.hidden.withUnsafeBufferPointer { h in
                gh.withUnsafeMutableBufferPointer { out in
                    matrixVector(layer.weightHH, rows: gateSize, columns: H, h.baseAddress! + index * H, bias: layer.biasHH, into: out.baseAddress!)
                }
            }
            let offset = index * H
            switch cell {
            case .lstm:
                for j in 0..<H {
                    let i = logistic(gx[j] + gh[j]), f = logistic(gx[H + j] + gh[H + j])
                    let g = tanh(gx[2 * H + j] + gh[2 * H + j]), o = logistic(gx[3 * H + j] + gh[3 * H + j])
                    let c = f * history.cell[offset + j] + i * g
                    history.cell[offset + j] = c
                    history.hidden[offset + j] = o * tanh(c)
                }
            case .gru:
                for j in 0..<H {
                    let r = logistic(gx[j] + gh[j]), z = logistic(gx[H + j] + gh[H + j])
                    let n = tanh(gx[2 * H + j] + r * gh[2 * H + j])
                    history.hidden[offset + j] = (1 - z) * n + z * history.hidden[offset + j]
                }
            case .rnn:
                for j in 0..<H { history.hidden[offset + j] = activation.apply(gx[j] + gh[j]) }
            }
            for j in 0..<H { input[j] = history.hidden[offset + j] }
        }
        input.withUnsafeBufferPointer { x in
            matrixVector(outputWeight, rows: vocabularySize, columns: H, x.baseAddress!, bias: outputBias, into: logits)
        }
    }
}

/// out = W x + bias for W (rows, columns) row-major: a SIMD dot product per row.
private func matrixVector(_ weight: UnsafePointer<Float>, rows: Int, columns: Int, _ x: UnsafePointer<Float>,
                          bias: [Float], into out: UnsafeMutablePointer<Float>) {
    let wide = columns / 32 * 32, narrow = columns / 8 * 8
    bias.withUnsafeBufferPointer { b in
        for row in 0..<rows {
            let w = weight + row * columns
            var s0 = Float8(), s1 = Float8(), s2 = Float8(), s3 = Float8()
            var k = 0
            while k < wide {
                s0 += loadFloat8(w + k) * loadFloat8(x + k)
                s1 += loadFloat8(w + k + 8) * loadFloat8(x + k + 8)
                s2 += loadFloat8(w + k + 16) * loadFloat8(x + k + 16)
                s3 += loadFloat8(w + k + 24) * loadFloat8(x + k + 24)
                k += 32
            }
            while k < narrow {
                s0 += loadFloat8(w + k) * loadFloat8(x + k)
                k += 8
            }
            var sum = ((s0 + s1) + (s2 + s3)).sum()
            while k < columns {
                sum += w[k] * x[k]
                k += 1
            }
            out[row] = sum + b[row]
        }
    }
}
