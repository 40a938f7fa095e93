import CLibPQ

/// One bound parameter as `PQexecParams` receives it: a type OID (0 lets the server infer it)
/// and a value in text or binary format.
struct PQParameter: Sendable {
    var type: UInt32
    var value: PostgresEncodedValue

    /// Lays `parameters` out as the parallel C arrays `PQexecParams` takes.
    ///
    /// All values share one contiguous byte buffer, so a call allocates a handful of arrays
    /// rather than one C string per parameter.
    static func withCArrays<R>(
        _ parameters: [PQParameter],
        _ body: (
            _ count: Int32,
            _ types: UnsafePointer<Oid>?,
            _ values: UnsafePointer<UnsafePointer<CChar>?>?,
            _ lengths: UnsafePointer<Int32>?,
            _ formats: UnsafePointer<Int32>?
        ) -> R
    ) -> R {
        if parameters.isEmpty { return body(0, nil, nil, nil, nil) }

        var storage: [UInt8] = [0]  // never empty, so the buffer always has a base address
        var offsets: [Int?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        var types: [Oid] = []
        offsets.reserveCapacity(parameters.count)
        lengths.reserveCapacity(parameters.count)
        formats.reserveCapacity(parameters.count)
        types.reserveCapacity(parameters.count)

        for parameter in parameters {
            types.append(parameter.type)
            switch parameter.value {
            case .null:
                offsets.append(nil)
                lengths.append(0)
                formats.append(0)
            case .text(let text):
                offsets.append(storage.count)
                storage.append(contentsOf: text.utf8)
                lengths.append(Int32(storage.count - offsets.last!!))
                storage.append(0)
                formats.append(0)
            case .binary(let bytes):
                offsets.append(storage.count)
                storage.append(contentsOf: bytes)
                lengths.append(Int32(bytes.count))
                formats.append(1)
            }
        }

        return storage.withUnsafeBytes { bytes in
            let base = bytes.baseAddress!
            let pointers: [UnsafePointer<CChar>?] = offsets.map { offset in
                offset.map { (base + $0).assumingMemoryBound(to: CChar.self) }
            }
            return pointers.withUnsafeBufferPointer { valuePointers in
                types.withUnsafeBufferPointer { typeBuffer in
                    lengths.withUnsafeBufferPointer { lengthBuffer in
                        formats.withUnsafeBufferPointer { formatBuffer in
                            body(
                                Int32(parameters.count), typeBuffer.baseAddress, valuePointers.baseAddress,
                                lengthBuffer.baseAddress, formatBuffer.baseAddress)
                        }
                    }
                }
            }
        }
    }
}
