import Foundation
import RNNServeAPI

/// The serving limits (defined beside the request decoding in `RNNServeAPI`, which needs no HTTP server).
public typealias ServeLimits = RNNServeAPI.ServeLimits

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
