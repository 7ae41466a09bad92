import Foundation
import RNNCore
import Synchronization

/// `Collective` over Open MPI, loaded at run time: the package builds and runs without MPI, and
/// only a distributed run (`mpirun -np N rnn ... train`) needs `libmpi.so.40` (Debian/Ubuntu:
/// `apt-get install libopenmpi-dev openmpi-bin`).
///
/// The few functions used are looked up with `dlsym`; Open MPI's predefined handles
/// (`MPI_COMM_WORLD`, `MPI_FLOAT`, `MPI_SUM`, …) are the addresses of its global structs
/// (`ompi_mpi_comm_world`, …). Errors come back as return codes (`MPI_ERRORS_RETURN`) and become
/// one `RNNError` line; a watchdog ends the process when a collective operation waits longer
/// than `timeout` seconds (a rank died or hangs), so no rank waits forever.
public final class MPICollective: Collective {
    public let rank: Int
    public let size: Int
    public private(set) var operations = 0
    public let shardsOptimizerStep: Bool
    public let overlapsGradientAllReduce: Bool
    public let sharesNodeMemory: Bool
    public let sendsTouchedRowsOnly: Bool
    private let api: MPIFunctions
    /// The ranks of this node (`MPI_Comm_split_type` shared), when they are all the ranks.
    private var nodeCommunicator: MPIFunctions.Handle?
    /// The `sharesNodeMemory` flag this rank was started with (compared in `checkSameStepKind`).
    private let requestedNodeMemory: Bool
    private let watchdog: CollectiveWatchdog
    /// Element counts and offsets of every rank's part of the last buffer size sharded (the
    /// gradient buffer's, every step), as MPI's `int` arrays.
    private var shardLayout: (count: Int, counts: [Int32], offsets: [Int32]) = (0, [], [])

    /// True when this process was started by Open MPI's launcher (`mpirun`, `mpiexec`).
    public static func launchedByMPI(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil
    }

    /// Loads Open MPI and initializes it. `timeout`: longest wait inside one collective operation.
    /// `shardsOptimizerStep`: see `Collective` (false, the default: one dense gradient all-reduce per step).
    /// `overlapsGradientAllReduce`: see `Collective` (dense step only).
    /// `sharesNodeMemory`: reduce through a shared-memory window when every rank runs on this node
    /// (see `Collective`; the same value on every rank).
    /// `sendsTouchedRowsOnly`: see `Collective` (all-reduce steps only).
    public init(timeout: Double = 300, shardsOptimizerStep: Bool = false, overlapsGradientAllReduce: Bool = true,
                sharesNodeMemory: Bool = true, sendsTouchedRowsOnly: Bool = true) throws {
        guard Self.launchedByMPI() else {
            throw RNNError("--distributed mpi: this process was not started by an MPI launcher; run it as `mpirun -np N rnn ...`")
        }
        api = try MPIFunctions.load()
        var provided: Int32 = 0
        try api.check(api.initThread(nil, nil, MPIFunctions.threadSerialized, &provided), "MPI_Init_thread")
        try api.check(api.setErrhandler(api.commWorld, api.errorsReturn), "MPI_Comm_set_errhandler")
        var value: Int32 = 0
        try api.check(api.commRank(api.commWorld, &value), "MPI_Comm_rank")
        rank = Int(value)
        try api.check(api.commSize(api.commWorld, &value), "MPI_Comm_size")
        size = Int(value)
        self.shardsOptimizerStep = shardsOptimizerStep
        self.overlapsGradientAllReduce = overlapsGradientAllReduce
        self.sendsTouchedRowsOnly = sendsTouchedRowsOnly
        watchdog = CollectiveWatchdog(rank: rank, timeout: timeout)
        watchdog.start()
        // Every rank makes this call (whatever its flags, so the calls match until
        // `checkSameStepKind`), and every rank finds the same answer: the node's ranks are all
        // the ranks on every node, or on none.
        var node: MPIFunctions.Handle?
        if size > 1 {
            try api.check(api.commSplitType(api.commWorld, MPIFunctions.commTypeShared, Int32(rank), api.infoNull, &node),
                          "MPI_Comm_split_type")
            var nodeSize: Int32 = 0
            if let node { try api.check(api.commSize(node, &nodeSize), "MPI_Comm_size") }
            if (Int(nodeSize) != size || !sharesNodeMemory || shardsOptimizerStep) && node != nil {
                _ = api.commFree(&node)
                node = nil
            }
        }
        nodeCommunicator = node
        self.sharesNodeMemory = node != nil
        requestedNodeMemory = sharesNodeMemory
    }

    public func makeNodeSharedSegments(floatsPerRank: Int) throws -> NodeSharedSegments? {
        guard let node = nodeCommunicator, floatsPerRank > 0 else { return nil }
        // Whole pages per rank, so every segment starts page-aligned.
        let bytes = (floatsPerRank * MemoryLayout<Float>.stride + 4095) / 4096 * 4096
        // Open MPI backs the window with a file in a tmpfs (/dev/shm); one larger than the room
        // left there (a container's 64 MB /dev/shm, say) would end in SIGBUS when first written.
        // So the ranks agree to use it only if a quarter more than it fits, and else go on with
        // MPI's all-reduce.
        let directory = ProcessInfo.processInfo.environment["OMPI_MCA_osc_sm_backing_directory"] ?? "/dev/shm"
        let needed = bytes * size + bytes * size / 4
        var stats = statvfs()
        let available = statvfs(directory, &stats) == 0 ? Int(stats.f_bavail) * Int(stats.f_frsize) : 0
        let (fits, _) = try allReduceMinMax([available >= needed ? 1 : 0])
        guard fits[0] == 1 else {
            if isLeader {
                FileHandle.standardError.write(Data(("distributed: \(directory) has \(available >> 20) MB free, the shared-memory step needs "
                    + "\(needed >> 20) MB: the ranks use MPI's all-reduce instead (enlarge \(directory), or set "
                    + "OMPI_MCA_osc_sm_backing_directory to a larger local directory)\n").utf8))
            }
            return nil
        }
        var base: UnsafeMutableRawPointer?
        var window: MPIFunctions.Handle?
        try watched("MPI_Win_allocate_shared") {
            api.winAllocateShared(bytes, Int32(MemoryLayout<Float>.stride), api.infoNull, node, &base, &window)
        }
        guard let window else { throw RNNError("rank \(rank): MPI_Win_allocate_shared returned no window") }
        var bases: [UnsafeMutablePointer<Float>] = []
        for peer in 0..<size {
            var peerBytes = 0, unit: Int32 = 0
            var peerBase: UnsafeMutableRawPointer?
            try api.check(api.winSharedQuery(window, Int32(peer), &peerBytes, &unit, &peerBase), "MPI_Win_shared_query")
            guard let peerBase, peerBytes >= floatsPerRank * MemoryLayout<Float>.stride else {
                throw RNNError("rank \(rank): MPI_Win_shared_query gave no segment for rank \(peer)")
            }
            bases.append(peerBase.bindMemory(to: Float.self, capacity: floatsPerRank))
        }
        // One passive-target epoch for the window's life: loads and stores are direct, ordered by
        // MPI_Win_sync and the collective calls between them.
        try api.check(api.winLockAll(MPIFunctions.modeNoCheck, window), "MPI_Win_lock_all")
        return Self.segments(floatsPerRank: floatsPerRank, bases: bases, window: window, api: api)
    }

    /// The segments of `window`: fences with `MPI_Win_sync`; freeing ends the lock and frees it
    /// (collective; the barrier just before it is under the watchdog).
    private static func segments(floatsPerRank: Int, bases: [UnsafeMutablePointer<Float>], window: MPIFunctions.Handle,
                                 api: MPIFunctions) -> NodeSharedSegments {
        NodeSharedSegments(floatsPerRank: floatsPerRank, bases: bases, synchronize: { _ = api.winSync(window) }, free: {
            _ = api.winUnlockAll(window)
            var handle: MPIFunctions.Handle? = window
            try api.check(api.winFree(&handle), "MPI_Win_free")
        })
    }

    public func barrier() throws {
        guard size > 1 else { return }
        try watched("MPI_Barrier") { api.barrier(api.commWorld) }
    }

    /// Checks that every rank chose the same kind of step (`--sharded-optimizer`,
    /// `--blocking-allreduce`): otherwise they would make different collective calls and wait
    /// for each other until the timeout. Every rank throws the same `CollectiveFailure`. Not
    /// counted in `operations` (a rank failing later while reading its data is still "before
    /// the first operation").
    public func checkSameStepKind() throws {
        guard size > 1 else { return }
        let kind = Double(shardsOptimizerStep ? 1 : 0) + 2 * Double(overlapsGradientAllReduce ? 1 : 0) + 4 * Double(requestedNodeMemory ? 1 : 0)
            + 8 * Double(sendsTouchedRowsOnly ? 1 : 0)
        var extremes = [kind, -kind]  // max over ranks of both: the largest kind and minus the smallest
        try extremes.withUnsafeMutableBufferPointer { buffer in
            try watched("MPI_Allreduce", counted: false) {
                api.allreduce(MPIFunctions.inPlace, buffer.baseAddress!, 2, api.double, api.opMax, api.commWorld)
            }
        }
        guard extremes[0] == -extremes[1] else {
            throw CollectiveFailure(RNNError("distributed training: the ranks were started with different --sharded-optimizer, --blocking-allreduce, --no-shared-memory or --dense-allreduce flags; start every rank with the same command line"))
        }
    }

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        guard size > 1, let base = values.baseAddress else { return }
        try watched("MPI_Allreduce") {
            api.allreduce(MPIFunctions.inPlace, base, Int32(values.count), api.float, api.opSum, api.commWorld)
        }
    }

    public func startAllReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws -> PendingAllReduce {
        let pending = PendingAllReduce()
        guard size > 1, let base = values.baseAddress else { return pending }
        guard values.count <= Int(Int32.max) else { throw RNNError("distributed training: a buffer of \(values.count) floats is too large for one MPI call") }
        var request: MPIFunctions.Handle?
        try watched("MPI_Iallreduce") {
            api.iallreduce(MPIFunctions.inPlace, base, Int32(values.count), api.float, api.opSum, api.commWorld, &request)
        }
        pending.request = request
        pending.isComplete = request == nil
        return pending
    }

    public func progress(_ pending: PendingAllReduce) throws {
        guard !pending.isComplete else { return }
        var request = pending.request, flag: Int32 = 0
        try watched("MPI_Test", counted: false) { api.test(&request, &flag, nil) }
        pending.request = request
        if flag != 0 { pending.isComplete = true }
    }

    public func wait(_ pending: PendingAllReduce) throws {
        guard !pending.isComplete else { return }
        var request = pending.request
        try watched("MPI_Wait", counted: false) { api.wait(&request, nil) }
        pending.request = nil
        pending.isComplete = true
    }

    public func allReduceSum(_ values: inout [Double]) throws {
        guard size > 1, !values.isEmpty else { return }
        let count = Int32(values.count)
        try values.withUnsafeMutableBufferPointer { buffer in
            try watched("MPI_Allreduce") {
                api.allreduce(MPIFunctions.inPlace, buffer.baseAddress!, count, api.double, api.opSum, api.commWorld)
            }
        }
    }

    public func allReduceMinMax(_ values: [Double]) throws -> (minimum: [Double], maximum: [Double]) {
        guard size > 1, !values.isEmpty else { return (values, values) }
        var minimum = values, maximum = values
        let count = Int32(values.count)
        for (target, op) in [(0, api.opMin), (1, api.opMax)] {
            var result = target == 0 ? minimum : maximum
            try result.withUnsafeMutableBufferPointer { buffer in
                try watched("MPI_Allreduce") {
                    api.allreduce(MPIFunctions.inPlace, buffer.baseAddress!, count, api.double, op, api.commWorld)
                }
            }
            if target == 0 { minimum = result } else { maximum = result }
        }
        return (minimum, maximum)
    }

    public func reduceScatterSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        guard size > 1, let base = values.baseAddress else { return }
        let layout = try layout(count: values.count)
        try layout.counts.withUnsafeBufferPointer { counts in
            try watched("MPI_Reduce_scatter") {
                api.reduceScatter(MPIFunctions.inPlace, base, counts.baseAddress!, api.float, api.opSum, api.commWorld)
            }
        }
        // In place, MPI leaves this rank's sums at the start of the buffer: move them to its part.
        let offset = Int(layout.offsets[rank]), count = Int(layout.counts[rank])
        if offset > 0 && count > 0 { (base + offset).update(from: base, count: count) }
    }

    public func allGather(_ values: UnsafeMutableBufferPointer<Float>) throws {
        guard size > 1, let base = values.baseAddress else { return }
        let layout = try layout(count: values.count)
        try layout.counts.withUnsafeBufferPointer { counts in
            try layout.offsets.withUnsafeBufferPointer { offsets in
                try watched("MPI_Allgatherv") {
                    api.allgatherv(MPIFunctions.inPlace, 0, api.float, base, counts.baseAddress!, offsets.baseAddress!, api.float, api.commWorld)
                }
            }
        }
    }

    /// Counts and offsets of `BufferShards` for a buffer of `count`, kept for the next call.
    private func layout(count: Int) throws -> (count: Int, counts: [Int32], offsets: [Int32]) {
        if shardLayout.count == count && !shardLayout.counts.isEmpty { return shardLayout }
        guard count <= Int(Int32.max) else { throw RNNError("distributed training: a buffer of \(count) floats is too large for one MPI call") }
        let parts = (0..<size).map { BufferShards.range(count: count, parts: size, part: $0) }
        shardLayout = (count, parts.map { Int32($0.count) }, parts.map { Int32($0.lowerBound) })
        return shardLayout
    }

    public func abort(code: Int32) -> Never {
        _ = api.abort(api.commWorld, code)
        exit(code)
    }

    public func finish() {
        watchdog.stop()
        if let node = nodeCommunicator {
            nodeCommunicator = nil
            var handle: MPIFunctions.Handle? = node
            _ = api.commFree(&handle)
        }
        _ = api.finalize()
    }

    /// Runs one collective call under the watchdog and turns a failure into an `RNNError`.
    private func watched(_ name: String, counted: Bool = true, _ call: () -> Int32) throws {
        if counted { operations += 1 }
        watchdog.enter()
        let code = call()
        watchdog.leave()
        guard code == 0 else {
            throw RNNError("rank \(rank): \(name) failed (\(api.errorString(code))): another rank has probably died; "
                           + "resume from the last checkpoint with --resume")
        }
    }
}

/// Ends this process when a collective operation has waited longer than `timeout` seconds.
/// (Open MPI's launcher usually stops the other ranks itself when one dies; this covers a rank
/// that hangs, or a launcher that does not.)
final class CollectiveWatchdog: Sendable {
    let rank: Int
    let timeout: Double
    /// Uptime in nanoseconds when the current collective call started; 0 outside one. -1: stopped.
    private let enteredAt = Atomic<Int64>(0)

    init(rank: Int, timeout: Double) {
        self.rank = rank
        self.timeout = timeout
    }

    func start() {
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 1)
                let entered = enteredAt.load(ordering: .acquiring)
                if entered < 0 { return }
                guard entered > 0 else { continue }
                let waited = Double(Int64(DispatchTime.now().uptimeNanoseconds) - entered) / 1e9
                if waited > timeout {
                    let message = "error: rank \(rank): no answer from the other ranks for \(Int(waited)) s inside a collective operation "
                        + "(a rank died or hangs); stopping. Resume from the last checkpoint with --resume\n"
                    FileHandle.standardError.write(Data(message.utf8))
                    _exit(1)
                }
            }
        }
        thread.name = "rnn-mpi-watchdog"
        thread.start()
    }

    func enter() { enteredAt.store(Int64(DispatchTime.now().uptimeNanoseconds), ordering: .releasing) }
    func leave() { enteredAt.store(0, ordering: .releasing) }
    func stop() { enteredAt.store(-1, ordering: .releasing) }
}

/// The Open MPI entry points and predefined handles, resolved with `dlopen`/`dlsym`.
struct MPIFunctions {
    typealias Handle = UnsafeMutableRawPointer
    typealias InitThread = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?,
                                           Int32, UnsafeMutablePointer<Int32>) -> Int32
    typealias CommQuery = @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    typealias SetErrhandler = @convention(c) (Handle, Handle) -> Int32
    typealias Allreduce = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer, Int32, Handle, Handle, Handle) -> Int32
    typealias ReduceScatter = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer, UnsafePointer<Int32>, Handle, Handle, Handle) -> Int32
    typealias Allgatherv = @convention(c) (UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer, UnsafePointer<Int32>, UnsafePointer<Int32>,
                                           Handle, Handle) -> Int32
    typealias Iallreduce = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer, Int32, Handle, Handle, Handle,
                                           UnsafeMutablePointer<Handle?>) -> Int32
    typealias Test = @convention(c) (UnsafeMutablePointer<Handle?>, UnsafeMutablePointer<Int32>, UnsafeMutableRawPointer?) -> Int32
    typealias Wait = @convention(c) (UnsafeMutablePointer<Handle?>, UnsafeMutableRawPointer?) -> Int32
    typealias Abort = @convention(c) (Handle, Int32) -> Int32
    typealias Finalize = @convention(c) () -> Int32
    typealias ErrorString = @convention(c) (Int32, UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32
    typealias CommSplitType = @convention(c) (Handle, Int32, Int32, Handle, UnsafeMutablePointer<Handle?>) -> Int32
    typealias HandleRelease = @convention(c) (UnsafeMutablePointer<Handle?>) -> Int32
    typealias HandleCall = @convention(c) (Handle) -> Int32
    typealias WinAllocateShared = @convention(c) (Int, Int32, Handle, Handle, UnsafeMutablePointer<UnsafeMutableRawPointer?>,
                                                  UnsafeMutablePointer<Handle?>) -> Int32
    typealias WinSharedQuery = @convention(c) (Handle, Int32, UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int32>,
                                               UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Int32
    typealias WinLockAll = @convention(c) (Int32, Handle) -> Int32

    static let threadSerialized: Int32 = 2  // MPI_THREAD_SERIALIZED in Open MPI's mpi.h
    static let commTypeShared: Int32 = 0    // MPI_COMM_TYPE_SHARED
    static let modeNoCheck: Int32 = 1       // MPI_MODE_NOCHECK
    static var inPlace: UnsafeRawPointer? { UnsafeRawPointer(bitPattern: 1) }  // MPI_IN_PLACE

    let initThread: InitThread
    let commRank: CommQuery
    let commSize: CommQuery
    let setErrhandler: SetErrhandler
    let allreduce: Allreduce
    let reduceScatter: ReduceScatter
    let allgatherv: Allgatherv
    let iallreduce: Iallreduce
    /// `MPI_Test` / `MPI_Wait` (status: `MPI_STATUS_IGNORE`, a null pointer in Open MPI).
    let test: Test
    let wait: Wait
    let abort: Abort
    let finalize: Finalize
    let errorStringFunction: ErrorString
    let commSplitType: CommSplitType
    let commFree: HandleRelease
    let barrier: HandleCall
    let winAllocateShared: WinAllocateShared
    let winSharedQuery: WinSharedQuery
    let winLockAll: WinLockAll
    let winUnlockAll: HandleCall
    let winSync: HandleCall
    let winFree: HandleRelease
    let infoNull: Handle
    let commWorld: Handle, float: Handle, double: Handle, opSum: Handle, opMin: Handle, opMax: Handle, errorsReturn: Handle

    static func load() throws -> MPIFunctions {
        // RTLD_GLOBAL: Open MPI's own plugins, loaded later, resolve their symbols against libmpi.
        var library: UnsafeMutableRawPointer?
        for name in ["libmpi.so.40", "libmpi.so"] where library == nil {
            library = dlopen(name, RTLD_NOW | RTLD_GLOBAL)
        }
        guard let library else {
            let reason = dlerror().map { String(cString: $0) } ?? "not found"
            throw RNNError("distributed training needs Open MPI (libmpi.so.40: \(reason)); install it with `apt-get install libopenmpi-dev openmpi-bin`")
        }
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let address = dlsym(library, name) else {
                throw RNNError("libmpi.so.40 has no \(name): Open MPI 4 or 5 is needed (another MPI implementation is not supported)")
            }
            return address
        }
        func function<F>(_ name: String, as type: F.Type) throws -> F { unsafeBitCast(try symbol(name), to: type) }
        return MPIFunctions(
            initThread: try function("MPI_Init_thread", as: InitThread.self),
            commRank: try function("MPI_Comm_rank", as: CommQuery.self),
            commSize: try function("MPI_Comm_size", as: CommQuery.self),
            setErrhandler: try function("MPI_Comm_set_errhandler", as: SetErrhandler.self),
            allreduce: try function("MPI_Allreduce", as: Allreduce.self),
            reduceScatter: try function("MPI_Reduce_scatter", as: ReduceScatter.self),
            allgatherv: try function("MPI_Allgatherv", as: Allgatherv.self),
            iallreduce: try function("MPI_Iallreduce", as: Iallreduce.self),
            test: try function("MPI_Test", as: Test.self),
            wait: try function("MPI_Wait", as: Wait.self),
            abort: try function("MPI_Abort", as: Abort.self),
            finalize: try function("MPI_Finalize", as: Finalize.self),
            errorStringFunction: try function("MPI_Error_string", as: ErrorString.self),
            commSplitType: try function("MPI_Comm_split_type", as: CommSplitType.self),
            commFree: try function("MPI_Comm_free", as: HandleRelease.self),
            barrier: try function("MPI_Barrier", as: HandleCall.self),
            winAllocateShared: try function("MPI_Win_allocate_shared", as: WinAllocateShared.self),
            winSharedQuery: try function("MPI_Win_shared_query", as: WinSharedQuery.self),
            winLockAll: try function("MPI_Win_lock_all", as: WinLockAll.self),
            winUnlockAll: try function("MPI_Win_unlock_all", as: HandleCall.self),
            winSync: try function("MPI_Win_sync", as: HandleCall.self),
            winFree: try function("MPI_Win_free", as: HandleRelease.self),
            infoNull: try symbol("ompi_mpi_info_null"),
            commWorld: try symbol("ompi_mpi_comm_world"), float: try symbol("ompi_mpi_float"),
            double: try symbol("ompi_mpi_double"), opSum: try symbol("ompi_mpi_op_sum"), opMin: try symbol("ompi_mpi_op_min"),
            opMax: try symbol("ompi_mpi_op_max"), errorsReturn: try symbol("ompi_mpi_errors_return"))
    }

    func check(_ code: Int32, _ name: String) throws {
        guard code == 0 else { throw RNNError("\(name) failed: \(errorString(code))") }
    }

    func errorString(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 512)  // MPI_MAX_ERROR_STRING is 256 in Open MPI
        var length: Int32 = 0
        guard errorStringFunction(code, &buffer, &length) == 0 else { return "MPI error \(code)" }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
