#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only, memory-mapped file. The pages are shared with the OS cache and read on demand, so a
/// multi-gigabyte checkpoint costs no allocation until its tensors are touched.
public final class MappedFile: @unchecked Sendable {
    /// The path the file was opened from.
    public let path: String
    /// The file's bytes; valid for the lifetime of the object.
    public let bytes: UnsafeRawBufferPointer

    /// Maps `path` read-only.
    /// - Throws: ``StepwiseError`` if the file is missing, unreadable or a directory.
    public init(path: String) throws {
        self.path = path
        // O_NONBLOCK: a named pipe put where a file was expected must not block the open (it is then
        // refused below as not a regular file).
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw StepwiseError.file(path, "cannot open (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw StepwiseError.file(path, "cannot read its size (\(String(cString: strerror(errno))))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw StepwiseError.file(path, "is not a regular file")
        }
        let size = Int(st.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw StepwiseError.file(path, "cannot be memory-mapped (\(String(cString: strerror(errno))))")
        }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }

    /// Size in bytes.
    public var count: Int { bytes.count }
}
