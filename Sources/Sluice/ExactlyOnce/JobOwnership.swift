import Foundation

/// The process that runs a job, as a store records it when the process
/// claims the job: shown to the process it fences and in the store's
/// owner table, so a user can tell which process holds a job.
public struct JobOwner: Hashable, Sendable, CustomStringConvertible {
    /// Host name and process id, e.g. `worker-3 pid 4711`.
    public var name: String

    public init(name: String) {
        self.name = name
    }

    /// This process: its host name and process id.
    public static var thisProcess: JobOwner {
        JobOwner(name: "\(ProcessInfo.processInfo.hostName) pid \(ProcessInfo.processInfo.processIdentifier)")
    }

    public var description: String { name }
}

/// A store's answer to a claim of a job (DESIGN.md, "Fencing"): the owner
/// epoch every commit of the claimant must carry. A later claim of the same
/// job advances the epoch, and the store refuses, in the commit's own
/// transaction, any commit whose epoch is no longer the job's: a process
/// that was paused, cut off or simply started twice cannot commit after
/// another process took the job over.
public struct OwnerClaim: Hashable, Sendable {
    /// The epoch to carry in ``BatchCommit/ownerEpoch``; nil when the store
    /// fences by other means (the Kafka store's transactional id).
    public var epoch: Int64?
    /// The owner that held the job before this claim, if any.
    public var previousOwner: String?

    public init(epoch: Int64?, previousOwner: String?) {
        self.epoch = epoch
        self.previousOwner = previousOwner
    }
}

extension StreamingError {
    /// The error a store throws for a commit whose owner epoch is stale:
    /// names the job, the batch, and the process that holds the job now.
    public static func fenced(job: String, batchTime: Time, epoch: Int64, currentOwner: String?, currentEpoch: Int64?) -> StreamingError {
        let holder = currentOwner.map { "\($0) (claim \(currentEpoch ?? 0))" } ?? "nobody (the job was reset)"
        return StreamingError(
            code: .fenced,
            message: "job '\(job)' is now held by \(holder), not by this process (claim \(epoch)): batch \(batchTime) was not committed "
                + "and this process stops. A job runs in one process at a time; the latest process to start takes it over, "
                + "from what the store holds")
    }
}
