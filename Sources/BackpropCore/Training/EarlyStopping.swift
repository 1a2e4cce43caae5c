/// Watches the validation loss epoch by epoch: remembers the best epoch, and says when
/// `patience` epochs in a row have not improved on it.
///
/// The weights of the best epoch are kept by the caller (``Network/parameters()`` when
/// ``observe(epoch:loss:)`` returns true), so that a stopped run can restore them.
public struct EarlyStopping: Sendable, Equatable, Codable {
    /// Epochs without a new best after which training stops; nil tracks the best but never stops.
    public var patience: Int?
    /// The epoch with the lowest validation loss so far (0: none yet).
    public private(set) var bestEpoch = 0
    /// Its validation loss.
    public private(set) var bestLoss = Double.infinity
    /// Epochs since the best.
    public private(set) var waited = 0

    enum CodingKeys: String, CodingKey { case patience, bestEpoch = "best_epoch", bestLoss = "best_loss", waited }

    /// A fresh watch; `patience` nil never stops.
    public init(patience: Int?) { self.patience = patience }

    /// Records epoch `epoch`'s validation loss; true when it is a new best. A loss must beat the
    /// best by a relative 10⁻⁶ to count, so that noise in the last digits is no progress.
    public mutating func observe(epoch: Int, loss: Double) -> Bool {
        if loss.isFinite, bestEpoch == 0 || loss < bestLoss - 1e-6 * abs(bestLoss) {
            bestEpoch = epoch
            bestLoss = loss
            waited = 0
            return true
        }
        waited += 1
        return false
    }

    /// True once `patience` epochs in a row brought no new best.
    public var shouldStop: Bool { patience.map { waited >= $0 } ?? false }
}
