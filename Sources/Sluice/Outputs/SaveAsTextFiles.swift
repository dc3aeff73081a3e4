import Foundation

extension DStream {
    /// Writes every batch as a directory `prefix-<batchTimeMs>.suffix` (no
    /// `.suffix` when `suffix` is empty) holding one `part-NNNNN` file per
    /// partition, one element per line in Spark's format, and an empty
    /// `_SUCCESS` file (Spark's `saveAsTextFiles`).
    ///
    /// Atomic per batch: written into a hidden temporary directory next to
    /// the target, then renamed into place. A batch run again (after a
    /// restart) replaces its directory, so the output is idempotent per batch
    /// time; across batches it is at-least-once.
    ///
    /// - Throws: `graphFrozen` after `start()`.
    public func saveAsTextFiles(prefix: String, suffix: String = "") throws {
        try foreachBatchOutput(name: "saveAsTextFiles") { batch, time, _ in
            let path = suffix.isEmpty
                ? "\(prefix)-\(time.milliseconds)"
                : "\(prefix)-\(time.milliseconds).\(suffix)"
            let parts = batch.partitions.map { partition in
                partition.collect().map { SparkFormat.string($0) + "\n" }.joined()
            }
            try AtomicDirectoryWriter.write(files: parts.enumerated().map { index, text in
                (String(format: "part-%05d", index), text)
            } + [("_SUCCESS", "")], to: URL(fileURLWithPath: path))
        }
    }
}

/// Writes a directory of files so that readers see all of it or none of it.
enum AtomicDirectoryWriter {
    static func write(files: [(name: String, contents: String)], to target: URL) throws {
        let fileManager = FileManager.default
        let parent = target.deletingLastPathComponent()
        let temporary = parent.appendingPathComponent(".\(target.lastPathComponent).tmp-\(UUID().uuidString)")
        do {
            try fileManager.createDirectory(at: parent, withIntermediateDirectories: true)
            try fileManager.createDirectory(at: temporary, withIntermediateDirectories: false)
            for file in files {
                try Data(file.contents.utf8).write(to: temporary.appendingPathComponent(file.name))
            }
            if fileManager.fileExists(atPath: target.path) {
                let old = parent.appendingPathComponent(".\(target.lastPathComponent).old-\(UUID().uuidString)")
                try fileManager.moveItem(at: target, to: old)
                try fileManager.moveItem(at: temporary, to: target)
                try? fileManager.removeItem(at: old)
            } else {
                try fileManager.moveItem(at: temporary, to: target)
            }
        } catch {
            try? fileManager.removeItem(at: temporary)
            throw StreamingError(
                code: .io,
                message: "could not write batch output to \(target.path): \(error.localizedDescription); check that the directory exists and is writable",
                underlying: error)
        }
    }
}
