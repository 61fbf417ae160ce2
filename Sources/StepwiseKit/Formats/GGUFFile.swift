/// A memory-mapped GGUF file (llama.cpp's single-file model format), versions 2 and 3.
///
/// Layout: `"GGUF"`, `uint32` version, `uint64` tensor count, `uint64` metadata count; the metadata
/// (key string, `uint32` value type, value); the tensor table (name, `uint32` n_dims, `uint64` ne per
/// dim innermost first, `uint32` ggml type, `uint64` offset); padding to `general.alignment` (default
/// 32); the data section. All little-endian.
///
/// Everything in the header is validated when the file is opened: counts and lengths against the bytes
/// left, dims, element counts, block multiples, alignment, and every tensor's bytes inside the file and
/// apart from the others. A malformed file is a ``StepwiseError`` naming the file and the problem.
///
/// A truncated file is an error, not a SIGBUS: every size is checked against the mapped size before a
/// byte past the header is touched. A file that another process shrinks *after* it was mapped cannot be
/// guarded this way: reading a page past the new end raises SIGBUS, and only copying the file (defeating
/// the mapping) or a signal handler that unwinds (not possible from Swift) would prevent it. Stepwise
/// accepts that: the file is the user's own, and changing it under a running process is not an attack a
/// downloaded file can make by itself (tools/fuzz/README.md, threat model).
/// Tensors are converted to float32 only when asked for (``tensor(_:)``); ``rawTensor(_:)`` gives the
/// stored bytes.
public final class GGUFFile: WeightSource, @unchecked Sendable {
    public let path: String
    /// The format version (2 or 3).
    public let version: Int
    /// Every metadata value by key.
    public let metadata: [String: GGUFValue]
    /// The metadata keys in file order.
    public let metadataKeys: [String]
    /// The tensor table in file order.
    public let tensors: [GGUFTensorInfo]
    /// The alignment of tensor data (`general.alignment`, default 32).
    public let alignment: Int
    /// File offset where the data section starts.
    public let dataOffset: Int

    public var tensorNames: [String] { tensors.map(\.name) }

    private let file: MappedFile
    private let index: [String: Int]

    /// The largest number of dimensions a ggml tensor has (`GGML_MAX_DIMS`).
    public static let maxDimensions = 4
    /// The alignment used when `general.alignment` is absent.
    public static let defaultAlignment = 32

    /// Opens, maps and validates a GGUF file.
    /// - Throws: ``StepwiseError`` (`.file`) naming the file and the first problem found, or
    ///   (`.unsupported`) for GGUF version 1 or a big-endian file.
    public init(path: String) throws {
        file = try MappedFile(path: path)
        self.path = path
        var r = GGUFByteReader(path: path, bytes: file.bytes)

        // Header.
        guard file.count >= 4 else {
            throw StepwiseError.file(path, "is \(file.count) bytes, too short for a GGUF header")
        }
        let magic = Array(file.bytes[0..<4])
        guard magic == Array("GGUF".utf8) else {
            let shown = magic.map { (0x20..<0x7f).contains($0) ? String(UnicodeScalar($0)) : "." }.joined()
            throw StepwiseError.file(path, "is not a GGUF file (starts with \"\(shown)\", expected \"GGUF\")")
        }
        try r.skip(4, for: "magic")
        let rawVersion = try r.u32("version")
        switch rawVersion {
        case 2, 3: version = Int(rawVersion)
        case 1:
            throw StepwiseError(.unsupported, "\(path): GGUF version 1 is not supported (re-convert the model to GGUF v3)")
        case 0x0200_0000, 0x0300_0000:
            throw StepwiseError(.unsupported, "\(path): big-endian GGUF files are not supported")
        default:
            throw StepwiseError(.unsupported, "\(path): GGUF version \(rawVersion) is not supported (Stepwise reads versions 2 and 3)")
        }
        // Each tensor entry takes at least 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset) bytes;
        // each metadata entry at least 8 (key length) + 4 (type) + 1 (value). Read kv count first as it is
        // stored after the tensor count, but bound both by the bytes after the header.
        let tensorCount64 = try r.u64("tensor count")
        let kvCount64 = try r.u64("metadata count")
        let left = r.remaining
        guard tensorCount64 <= UInt64(left / 24) else {
            throw StepwiseError.file(path, "tensor count \(tensorCount64) is impossible: \(left) bytes after the header hold at most \(left / 24) tensor entries")
        }
        guard kvCount64 <= UInt64(left / 13) else {
            throw StepwiseError.file(path, "metadata count \(kvCount64) is impossible: \(left) bytes after the header hold at most \(left / 13) entries")
        }
        let tensorCount = Int(tensorCount64), kvCount = Int(kvCount64)

        // Metadata.
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        keys.reserveCapacity(min(kvCount, 1 << 12))
        for i in 0..<kvCount {
            let key = try r.string("key of metadata entry \(i)")
            guard metadata[key] == nil else {
                throw StepwiseError.file(path, "metadata key '\(key)' appears twice")
            }
            let type = try r.valueType("metadata '\(key)'")
            metadata[key] = try r.value(type, "metadata '\(key)'")
            keys.append(key)
        }
        self.metadata = metadata
        self.metadataKeys = keys

        var alignment = Self.defaultAlignment
        if let a = metadata["general.alignment"] {
            guard case .uint32(let v) = a, v > 0, v.nonzeroBitCount == 1 else {
                throw StepwiseError.file(path, "general.alignment is \(a) (\(a.typeName)), expected a power of two as uint32")
            }
            alignment = Int(v)
        }
        self.alignment = alignment

        // Tensor table.
        guard tensorCount <= r.remaining / 24 else {
            throw StepwiseError.file(path, "tensor count \(tensorCount) is impossible: \(r.remaining) bytes after the metadata hold at most \(r.remaining / 24) tensor entries")
        }
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(min(tensorCount, 1 << 12))
        var index: [String: Int] = [:]
        for i in 0..<tensorCount {
            let name = try r.string("name of tensor \(i)")
            guard index[name] == nil else {
                throw StepwiseError.file(path, "tensor '\(name)' appears twice in the tensor table")
            }
            let nDims = try r.u32("dimension count of tensor '\(name)'")
            guard nDims <= UInt32(Self.maxDimensions) else {
                throw StepwiseError.file(path, "tensor '\(name)' has \(nDims) dimensions (at most \(Self.maxDimensions))")
            }
            var ne: [Int] = []
            var elements = 1
            for d in 0..<Int(nDims) {
                let raw = try r.load(Int64.self, for: "extent \(d) of tensor '\(name)'")
                guard raw >= 0 else {
                    throw StepwiseError.file(path, "tensor '\(name)' has negative extent \(raw) on axis \(d)")
                }
                let (p, overflow) = elements.multipliedReportingOverflow(by: Int(raw))
                guard !overflow else {
                    throw StepwiseError.file(path, "tensor '\(name)' has extents \(ne + [Int(raw)]) whose product overflows")
                }
                ne.append(Int(raw))
                elements = p
            }
            let typeRaw = try r.u32("type of tensor '\(name)'")
            guard let type = GGUFTensorType(rawValue: typeRaw) else {
                throw StepwiseError.file(path, "tensor '\(name)' has unknown ggml type id \(typeRaw)")
            }
            let offset64 = try r.u64("data offset of tensor '\(name)'")
            let rowLength = ne.first ?? 1
            guard rowLength % type.blockSize == 0 else {
                throw StepwiseError.file(path, "tensor '\(name)' of type \(type.name) has rows of \(rowLength) values, not a multiple of its block size \(type.blockSize)")
            }
            guard let byteCount = type.byteCount(forValues: elements), byteCount <= file.count else {
                throw StepwiseError.file(path, "tensor '\(name)' (\(type.name), ne \(ne)) would take more bytes than the whole file (\(file.count))")
            }
            guard offset64 % UInt64(alignment) == 0 else {
                throw StepwiseError.file(path, "tensor '\(name)' data offset \(offset64) is not a multiple of the alignment \(alignment)")
            }
            guard offset64 <= UInt64(file.count) else {
                throw StepwiseError.file(path, "tensor '\(name)' data offset \(offset64) is past the end of the file (\(file.count) bytes)")
            }
            index[name] = tensors.count
            tensors.append(GGUFTensorInfo(name: name, ne: ne, type: type, offset: Int(offset64), byteCount: byteCount))
        }

        // Data section: aligned start, every tensor inside the file, no two overlapping.
        let headerEnd = r.offset
        let padded = (headerEnd + alignment - 1) / alignment * alignment
        dataOffset = padded
        let dataSize = file.count - padded
        if !tensors.isEmpty && dataSize < 0 {
            throw StepwiseError.file(path, "truncated: the data section would start at byte \(padded) but the file has \(file.count)")
        }
        for t in tensors where t.offset > dataSize || t.byteCount > dataSize - t.offset {
            throw StepwiseError.file(path, "tensor '\(t.name)' (\(t.type.name), \(t.shape)) needs bytes \(padded + t.offset)..<\(padded + t.offset + t.byteCount) but the file has \(file.count) (truncated?)")
        }
        let byOffset = tensors.sorted { $0.offset < $1.offset }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where b.offset < a.offset + a.byteCount {
            throw StepwiseError.file(path, "tensors '\(a.name)' and '\(b.name)' overlap in the data section")
        }
        self.tensors = tensors
        self.index = index
    }

    // MARK: - Metadata

    /// The metadata value for `key`.
    public subscript(key: String) -> GGUFValue? { metadata[key] }

    /// `general.architecture` (`llama`, `gpt2`, ...).
    public var architecture: String? { metadata["general.architecture"]?.string }

    /// A value under the architecture's prefix: `architectureValue("block_count")` reads
    /// `llama.block_count` in a Llama file.
    public func architectureValue(_ suffix: String) -> GGUFValue? {
        architecture.flatMap { metadata["\($0).\(suffix)"] }
    }

    // MARK: - Tensors

    /// The tensor table entry for `name`, nil if absent.
    public func ggufTensorInfo(_ name: String) -> GGUFTensorInfo? {
        index[name].map { tensors[$0] }
    }

    public func tensorInfo(_ name: String) -> WeightInfo? {
        ggufTensorInfo(name).map { WeightInfo(shape: $0.shape, dtype: $0.type.name, byteCount: $0.byteCount) }
    }

    /// The stored bytes of a tensor, for kernels that work on the quantized blocks directly.
    ///
    /// The buffer points into the mapping and is valid as long as this `GGUFFile` is alive. Rows of
    /// `info.ne[0]` values are `info.type.byteCount(forValues: info.ne[0])` bytes each, outermost row last.
    /// - Throws: ``StepwiseError`` if there is no such tensor.
    public func rawTensor(_ name: String) throws -> (info: GGUFTensorInfo, bytes: UnsafeRawBufferPointer) {
        guard let info = ggufTensorInfo(name) else {
            throw StepwiseError.file(path, "has no tensor '\(name)'")
        }
        let start = dataOffset + info.offset
        return (info, UnsafeRawBufferPointer(rebasing: file.bytes[start..<(start + info.byteCount)]))
    }

    /// A matrix's blocks (or float rows) in the mapping, when ``StoredMatrix`` reads its type in place.
    public func storedBytes(_ name: String) -> (format: StoredMatrix.Format, bytes: UnsafeRawBufferPointer, owner: AnyObject)? {
        guard let (info, bytes) = try? rawTensor(name), info.shape.count == 2, let format = StoredMatrix.Format(info.type) else { return nil }
        return (format, bytes, self)
    }

    /// The tensor converted to float32, in PyTorch order (shape = `ne` reversed).
    ///
    /// Converted on every call (nothing is cached); large tensors are converted on all cores.
    /// - Throws: ``StepwiseError`` if there is no such tensor, or (`.unsupported`) if its type is one
    ///   Stepwise cannot convert (the IQ and ternary types).
    public func tensor(_ name: String) throws -> Tensor {
        let (info, raw) = try rawTensor(name)
        guard info.type.canDequantize else {
            let known = GGUFTensorType.dequantizable.map(\.name).joined(separator: ", ")
            throw StepwiseError(.unsupported, "\(path): tensor '\(name)' is \(info.type.name), which Stepwise cannot convert (it reads \(known))")
        }
        let n = info.elementCount
        let data = GGUFQuantization.dequantize(info.type, from: raw, count: n)
        return Tensor(shape: info.shape, data: data)
    }
}
