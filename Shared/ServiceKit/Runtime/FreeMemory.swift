#if canImport(Glibc)
import Glibc
#endif

/// Hands memory the process freed back to the operating system. glibc keeps freed heap
/// memory for reuse; after a burst of large batches the resident size would stay at the
/// burst's peak. Cheap enough to call after each batch, not per record.
public enum FreeMemory {
    private typealias Trim = @convention(c) (Int) -> Int32

    /// glibc's `malloc_trim`, looked up at run time (`malloc.h` is not part of the Glibc module).
    private static let trim: Trim? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
        #else
        return nil
        #endif
    }()

    public static func release() {
        _ = trim?(0)
    }
}
