/// One entry of a GGUF file's tensor table, validated against the file.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor's name (`blk.0.attn_q.weight`).
    public var name: String
    /// Extents as GGUF stores them, innermost (fastest-varying) first: `ne = [576, 192]` is a
    /// `[192, 576]` matrix.
    public var ne: [Int]
    /// The stored type.
    public var type: GGUFTensorType
    /// Byte offset of the data from the start of the file's data section (a multiple of the alignment).
    public var offset: Int
    /// Bytes the data occupies.
    public var byteCount: Int

    /// Extents in PyTorch order (outermost first): `ne` reversed.
    public var shape: [Int] { ne.reversed() }

    /// Number of values.
    public var elementCount: Int { ne.reduce(1, *) }
}
