#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import StepwiseKit
import Synchronization

/// Pictures drawn in the terminal after a command's text (`set images`).
///
/// Commands hand over ``Picture`` values (``CommandContext/images``), never text: they are queued while
/// the command runs and drawn once its lines are printed, as escape sequences ``ImageEscape`` builds from
/// the pixels alone. Only the interactive REPL at a terminal offers this; a picture is never written when
/// standard output is not a terminal, never through the pager, never into a transcript.
enum InlinePictures {
    /// What the environment says about the terminal, read once.
    static let detection = ImageDetection.detect(ProcessInfo.processInfo.environment)

    private static let pending = Mutex<[(Picture, ImageProtocol)]>([])

    /// The sink the REPL gives commands at its prompt.
    static var sink: InlineImages {
        InlineImages(detection: detection) { picture, kind in
            pending.withLock { $0.append((picture, kind)) }
        }
    }

    /// Draws what the last command queued, below its text.
    static func flush() {
        let queued = pending.withLock { list -> [(Picture, ImageProtocol)] in
            defer { list = [] }
            return list
        }
        guard !queued.isEmpty, isatty(STDOUT_FILENO) == 1 else { return }
        for (picture, kind) in queued {
            Console.writeImage(ImageEscape.sequence(for: picture, as: kind, in: Terminal.geometry, tmux: detection.tmux))
        }
    }

    /// Forgets what a failed command queued.
    static func discard() {
        pending.withLock { $0 = [] }
    }
}
