import Foundation
import Synchronization

/// Ctrl-C during training: the first SIGINT asks the trainer to stop after the current step (it
/// then saves a checkpoint and exits with a message saying how to resume); a second one exits at
/// once. Installed only by training commands; every other command keeps the default (exit).
enum InterruptSignal {
    /// SIGINTs received since `install` (process-wide by nature: a signal handler has no context).
    private static let received = Atomic<Int>(0)

    /// True once Ctrl-C has been pressed.
    static var isRequested: Bool { received.load(ordering: .relaxed) > 0 }

    static func install() {
        signal(SIGINT, handleInterrupt)
    }

    /// The handler's work, async-signal-safe: an atomic increment, write(2) and _exit(2) only.
    fileprivate static func handle() {
        let previous = received.add(1, ordering: .relaxed).oldValue
        if previous > 0 {
            writeToStandardError("\ninterrupted again: exiting now without saving\n")
            _exit(130)
        }
        writeToStandardError("\ninterrupt: finishing this step, then saving a checkpoint (Ctrl-C again to quit at once)\n")
    }

    private static func writeToStandardError(_ message: StaticString) {
        _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
    }
}

private func handleInterrupt(_ signal: Int32) {
    InterruptSignal.handle()
}

/// Exit status of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
let interruptedExitCode: Int32 = 130
