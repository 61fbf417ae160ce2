import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes whole files that never surprise: a reader sees the old file or the new one, never half;
/// nothing is replaced unless asked; nothing is written through a symbolic link or into a special file.
///
/// The bytes go to a temporary file created exclusively (`O_CREAT|O_EXCL|O_NOFOLLOW`, an unpredictable
/// name) in the target's folder, which is then moved into place: with `link(2)` when nothing may be
/// replaced (it fails if the target appeared meanwhile), with `rename(2)` when replacing is asked for.
public enum AtomicFile {
    /// - Parameters:
    ///   - replace: whether an existing regular file (or a link, which is replaced itself, never followed) may be replaced.
    ///   - shownAs: the path as the user typed it, for messages.
    /// - Throws: ``StepwiseError`` with one line saying what is wrong and what to do.
    public static func write(_ data: Data, to path: String, replace: Bool, shownAs: String? = nil) throws {
        let shown = shownAs ?? path
        func fail(_ what: String) -> StepwiseError { StepwiseError.usage("cannot write '\(shown)': \(what)") }
        switch FileKind.at(path, followLinks: false) {
        case .missing: break
        case .regular:
            if !replace { throw StepwiseError.usage("'\(shown)' exists; add --force to overwrite it") }
        case .symlink:
            let target = FileKind.at(path)
            switch target {
            case .regular:
                if !replace { throw StepwiseError.usage("'\(shown)' exists; add --force to overwrite it") }
            case .danglingSymlink, .missing:
                throw fail("it is a symbolic link to nothing; remove it or choose another name")
            default:
                throw fail("it is a symbolic link to \(target.phrase); choose another name")
            }
        case .directory:
            throw StepwiseError.usage("'\(shown)' is a directory; give a file name")
        case let other:
            throw fail("it is \(other.phrase), not a regular file; choose another name")
        }
        let url = URL(fileURLWithPath: path)
        let name = url.lastPathComponent
        guard !name.isEmpty, name != ".", name != ".." else { throw StepwiseError.usage("'\(shown)' names a folder; give a file name") }
        let dir = url.deletingLastPathComponent().path
        guard FileKind.at(dir) == .directory else {
            let folder = (shown as NSString).deletingLastPathComponent
            throw fail("folder '\(folder.isEmpty ? "." : folder)' does not exist")
        }
        let (fd, tmp) = try createTemporary(in: dir, for: name, fail: fail)
        var ok = false
        defer { if !ok { unlink(tmp) } }
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < raw.count {
                let n = posixWrite(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    let reason = String(cString: strerror(errno))
                    close(fd)
                    throw fail(reason)
                }
                offset += n
            }
        }
        guard close(fd) == 0 else { throw fail(String(cString: strerror(errno))) }
        if replace {
            guard rename(tmp, path) == 0 else { throw fail(String(cString: strerror(errno))) }
        } else if link(tmp, path) == 0 {
            unlink(tmp)
        } else {
            let err = errno
            if err == EEXIST { throw StepwiseError.usage("'\(shown)' exists; add --force to overwrite it") }
            // A file system without hard links: check once more, then rename.
            guard [EPERM, ENOTSUP, EOPNOTSUPP, EMLINK, EXDEV].contains(err), FileKind.at(path, followLinks: false) == .missing,
                  rename(tmp, path) == 0 else {
                throw fail(String(cString: strerror(err)))
            }
        }
        ok = true
    }

    /// A new, empty file in `dir` named `.NAME.<random>.tmp`, opened for writing; never an existing one.
    static func createTemporary(in dir: String, for name: String,
                                fail: (String) -> StepwiseError) throws -> (Int32, String) {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<16 {
            let tag = String(rng.next() & 0xFFFF_FFFF_FFFF, radix: 36)
            let tmp = dir + "/." + String(name.prefix(200)) + "." + tag + ".tmp"
            let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
            if fd >= 0 { return (fd, tmp) }
            if errno != EEXIST { throw fail(String(cString: strerror(errno))) }
        }
        throw fail("could not create a temporary file in its folder")
    }
}

/// `write(2)`, named apart from ``AtomicFile/write(_:to:replace:shownAs:)``.
func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #else
    return Darwin.write(fd, p, n)
    #endif
}
