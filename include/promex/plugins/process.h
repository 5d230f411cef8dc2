/* The `process` plugin: what PromEx.Plugins.Beam reports about the Erlang VM, reported about the
 * running C process, in the same group structure (memory and internals polled; CPU topology,
 * system limits, system info and threads as manual groups).
 *
 * Enabling it: pmx_plugin_use_t use = {&pmx_plugin_process, NULL, 0, NULL}; or in the INI file
 * a [plugin.process] section. Options: metric_prefix (default "<app>_prom_ex_process"; dashboard
 * assign process_metric_prefix must match) and poll_rate (ms, default 5000); nothing else.
 *
 * Metrics (prefix P = <app>_prom_ex_process). "Counter" = PMX_SUM fed with the increase of the
 * cumulative source value since the previous poll (the first poll adds the whole value, so the
 * counter equals the source). +Inf in a limit means unlimited (RLIM_INFINITY); versions before
 * 0.2 reported -1, which turned open_fds / max_fds negative.
 *
 * Multi-process mode (pmx_prepare_shared; docs/multiprocess.md): the plugin runs in the master
 * and reports the process group where a sum makes sense. Per group:
 *   P_workers                        gauge  live workers in the mapping's worker table (zombies
 *       and vanished pids left out; the master not counted). Defined in this mode only.
 *   P_memory_resident_bytes, P_memory_virtual_bytes   master + live workers (/proc/<pid>/statm).
 *   P_cpu_seconds_total{mode}        master + every worker: live ones from /proc/<pid>/stat,
 *       dead ones as last polled (their CPU after that poll is not seen), so it never goes back.
 * Every other metric stays the master's own (a sum of peaks, heaps or limits means nothing, and
 * per-process fds, threads, faults and I/O are the master's to watch).
 *
 * process_memory_polling_metrics (poll_rate):
 *   P_memory_resident_bytes          gauge  /proc/self/statm resident * page size.
 *       client_golang process_resident_memory_bytes. Beam: memory_allocated_bytes.
 *   P_memory_virtual_bytes           gauge  /proc/self/statm size * page size.
 *       client_golang process_virtual_memory_bytes.
 *   P_memory_resident_peak_bytes     gauge  getrusage ru_maxrss (VmHWM).
 *   P_memory_heap_arena_bytes        gauge  mallinfo2().arena: heap from brk/sbrk.
 *   P_memory_heap_mmap_bytes         gauge  mallinfo2().hblkhd: large blocks from mmap.
 *   P_memory_heap_in_use_bytes       gauge  mallinfo2().uordblks + hblkhd: what the program holds.
 *   P_memory_heap_free_bytes         gauge  mallinfo2().fordblks: free memory kept by malloc.
 *   P_memory_heap_releasable_bytes   gauge  mallinfo2().keepcost: trimmable top of the heap.
 *   P_memory_heap_free_chunks        gauge  mallinfo2().ordblks: free chunks in the ordinary bins
 *       (many chunks holding little memory = a fragmented heap).
 *   P_memory_heap_fastbin_free_bytes gauge  mallinfo2().fsmblks: free memory in the fastbins.
 *   P_memory_heap_mmap_blocks        gauge  mallinfo2().hblks: blocks allocated with mmap.
 *       Not used: malloc_info() (per-arena XML). It walks every bin of every arena under the
 *       arena locks, needs a FILE (fmemopen) and an XML parse on each poll, and its per-arena
 *       split answers a question (which arena) nobody acts on from a dashboard; mallinfo2 already
 *       sums the arenas. malloc_stats() prints to stderr and is unusable for polling.
 *       The heap metrics (Beam: memory_{processes,binary,ets,...}_total_bytes, by allocator) exist
 *       only with glibc >= 2.33 (mallinfo2); with another libc they are not defined. They
 *       describe glibc's malloc: a program using jemalloc/tcmalloc sees only glibc's share.
 *
 * process_internal_polling_metrics (poll_rate):
 *   P_cpu_seconds_total{mode}        counter  getrusage ru_utime (mode="user"), ru_stime
 *       ("system"). client_golang process_cpu_seconds_total = sum without(mode).
 *   P_context_switches_total{type}   counter  getrusage ru_nvcsw (type="voluntary"), ru_nivcsw
 *       ("involuntary"). Beam: stats_context_switch_count.
 *   P_page_faults_total{type}        counter  getrusage ru_minflt ("minor"), ru_majflt ("major").
 *   P_threads                        gauge    /proc/self/stat num_threads. (go_threads)
 *   P_open_fds                       gauge    entries of /proc/self/fd. client_golang
 *       process_open_fds. Beam: stats_port_count is the nearest relative.
 *   P_max_fds                        gauge    getrlimit(RLIMIT_NOFILE) soft. client_golang
 *       process_max_fds. (Polled so that a setrlimit at run time shows.)
 *   P_start_time_seconds             gauge    process start since the epoch (/proc/self/stat
 *       starttime). client_golang process_start_time_seconds.
 *   P_uptime_seconds                 gauge    seconds since start. Beam:
 *       stats_uptime_milliseconds_count.
 *
 * process_io_polling_metrics (poll_rate; /proc/self/io, Linux 2.6.20+):
 *   P_io_bytes_total{direction}      counter  rchar ("read"), wchar ("write"): bytes through
 *       read/write-like syscalls on any descriptor (files, sockets, pipes). Beam:
 *       port_io_byte_count{type="input"|"output"} (Beam's is from erlang:statistics(io)).
 *   P_io_syscalls_total{direction}   counter  syscr, syscw. Beam: none (port_io has bytes only).
 *   P_io_storage_bytes_total{direction} counter  read_bytes, write_bytes: what the process made
 *       the block layer read (page-ins of file data) or write back. Only with
 *       CONFIG_TASK_IO_ACCOUNTING; absent otherwise. This is the per-process "page-ins/outs":
 *       Linux keeps pgpgin/pgpgout only system-wide (/proc/vmstat; see the os plugin), and major
 *       faults (page_faults_total{type="major"}) count page-ins of mapped memory.
 *   Unreadable /proc/self/io (a sandbox denying ptrace-read of oneself) fails the poll (counted
 *   by promex's poll error metrics); the other groups are unaffected.
 *
 * process_thread_states_polling_metrics (poll_rate; /proc/self/task/<tid>/{stat,schedstat}):
 *   P_threads_state{state}           gauge  threads by state: running (R, on a CPU or runnable),
 *       sleeping (S), disk_sleep (D), stopped (T, t), zombie (Z, X), idle (I), other. Every
 *       state is reported, zeros included. At most 4096 threads are examined per poll.
 *       Beam: run_queue_lengths (threads{state="running"} is the runnable count) and
 *       node_exporter node_processes_threads_state.
 *   P_cpu_run_queue_wait_seconds_total counter  time the threads spent runnable but waiting for a
 *       CPU (schedstat field 2, summed over threads; a thread's wait since the previous poll is
 *       lost when it exits). Only when the kernel has schedstat (CONFIG_SCHED_INFO). Beam: the
 *       closest to the run queue metrics; node_exporter node_schedstat_waiting_seconds_total
 *       (per CPU, system-wide).
 *   Cost: two small file reads per thread: 34 us per poll for a process of 3 threads, growing
 *   by about 10 us per thread (plugin_poll_cost; io group 6.5 us).
 *
 * process_cpu_topology_manual_metrics (start and pmx_refresh_manual_metrics()):
 *   P_system_logical_processors            gauge  sysconf(_SC_NPROCESSORS_CONF).
 *   P_system_logical_processors_online     gauge  sysconf(_SC_NPROCESSORS_ONLN).
 *   P_system_logical_processors_available  gauge  CPU_COUNT of sched_getaffinity(): CPUs this
 *       process may run on. Beam: system_logical_processors{,_online,_available}_info.
 *
 * process_system_limits_manual_metrics (soft limits, getrlimit):
 *   P_system_limit_open_files               gauge  RLIMIT_NOFILE.
 *   P_system_limit_processes                gauge  RLIMIT_NPROC.
 *   P_system_limit_stack_bytes              gauge  RLIMIT_STACK.
 *   P_system_limit_address_space_bytes      gauge  RLIMIT_AS (client_golang
 *       process_virtual_memory_max_bytes).
 *   P_system_limit_core_bytes               gauge  RLIMIT_CORE.
 *       Beam: system_{process,port,ets,atom}_limit_info are the VM's own limits.
 *
 * process_system_info_manual_metrics:
 *   P_system_info{kernel_release,machine,libc,libc_version,allocator,compiler,promex_version}
 *       gauge 1. uname(), gnu_get_libc_version(), the compiler that built promex. Beam:
 *       system_version_info and the *_support_info flags.
 *   P_system_word_size_bytes        gauge  sizeof(void *). Beam: system_word_size_bytes_info.
 *   P_system_page_size_bytes        gauge  sysconf(_SC_PAGESIZE).
 *
 * process_threads_manual_metrics (Beam's scheduler group: how many threads may run):
 *   P_system_threads_max                    gauge  /proc/sys/kernel/threads-max.
 *   P_system_thread_stack_default_bytes     gauge  pthread_getattr_default_np stack size.
 *
 * Poll cost (tests/unit/plugins/plugin_poll_cost, 1000 runs, 2 vCPU VM under load, Debian 12,
 * glibc 2.36, gcc -O2; see docs/plugins.md): process_memory_polling_metrics 7 us per poll
 * (/proc/self/statm, getrusage, mallinfo2); process_internal_polling_metrics 17 us with 5 open
 * descriptors (/proc/self/stat, readdir of /proc/self/fd, which grows with open descriptors,
 * getrusage, getrlimit). Manual groups: topology 13 us, limits 2 us, system info 0.6 us, threads
 * 5 us per run. Polls reuse their read buffers; the only allocation is the DIR stream that
 * opendir() makes to count /proc/self/fd.
 *
 * Threading: polling groups run on the promex thread; manual groups keep no state and may run on
 * the promex thread and in pmx_refresh_manual_metrics() at once. */
#ifndef PROMEX_PLUGINS_PROCESS_H
#define PROMEX_PLUGINS_PROCESS_H

#include "promex/export.h"
#include "promex/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The plugin table. Name "process". */
PMX_EXTERN extern const pmx_plugin_t pmx_plugin_process;

#ifdef __cplusplus
}
#endif
#endif
