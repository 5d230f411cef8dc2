/* The `os` plugin: the os_mon counterpart (PromEx lists "Operating System (os_mon)" as a
 * planned plugin): load, CPU, memory and swap, filesystems and network of the machine (or of
 * the container: /proc shows what the process's namespaces see).
 *
 * Enabling it: pmx_plugin_use_t use = {&pmx_plugin_os, opts, n_opts, NULL}; or an INI section
 * [plugin.os]. Any group can be dropped with the config's drop_metrics_groups.
 *
 * Options (comma lists; spaces around entries ignored; an empty value disables the filter):
 *   fs_include_mounts  only these mount points: exact paths, or "dir/" (ending in a
 *                      slash) for every mount point strictly below dir.
 *   fs_exclude_mounts  default PMX_OS_DEFAULT_FS_EXCLUDE_MOUNTS.
 *   fs_include_types   only these filesystem types.
 *   fs_exclude_types   default PMX_OS_DEFAULT_FS_EXCLUDE_TYPES: pseudo and memory filesystems
 *                      (proc, sysfs, tmpfs, cgroup, ...), and squashfs (always full). tmpfs is
 *                      excluded by default because containers mount many; include it with
 *                      fs_exclude_types set to your own list.
 *   net_exclude        interfaces to leave out; default "lo".
 *   proc_root          where procfs is mounted, default "/proc" (a container watching its host
 *                      through a bind mount: "/host/proc", node_exporter's --path.procfs).
 *                      Mount points found there are statvfs()ed as they are named.
 *   metric_prefix      default "<app>_prom_ex_os" (dashboard assign os_metric_prefix).
 *   poll_rate          ms, default 5000.
 * Giving an exclude option replaces its default. Filesystems of size 0 are skipped (pseudo
 * filesystems); a mount point mounted over reports only its visible (last) mount.
 *
 * Metrics (prefix P = <app>_prom_ex_os). "Counter" = PMX_SUM fed with the increase of the
 * cumulative /proc value since the previous poll; the first poll adds the whole value, so the
 * counter equals the source; a source that went backwards (interface re-created) is a reset.
 *
 * os_load_polling_metrics (/proc/loadavg):
 *   P_load1, P_load5, P_load15       gauge   node_exporter node_load1/5/15. os_mon cpu_sup:avg1..
 *   P_processes_running              gauge   runnable scheduling entities (node_procs_running
 *                                            is from /proc/stat and counts differently).
 *   P_processes                      gauge   existing scheduling entities (threads).
 *
 * os_cpu_polling_metrics (/proc/stat "cpu" line, USER_HZ ticks / sysconf(_SC_CLK_TCK)):
 *   P_cpu_seconds_total{mode}        counter mode = user nice system idle iowait irq softirq
 *       steal guest guest_nice (only those the kernel prints). node_cpu_seconds_total summed over
 *       the cpu label (no per-CPU series here, to bound cardinality). guest and guest_nice are
 *       also counted in user and nice, as the kernel reports them.
 *   P_cpu_utilization_ratio          gauge   busy / total ticks over the last poll interval (busy
 *       = total - idle - iowait; total excludes guest*); first poll: since boot. os_mon
 *       cpu_sup:util().
 *   P_cpus                           gauge   number of cpuN lines (CPUs online).
 *
 * os_memory_polling_metrics (/proc/meminfo, bytes):
 *   P_memory_total_bytes       node_memory_MemTotal_bytes     P_memory_free_bytes   ..MemFree..
 *   P_memory_available_bytes   node_memory_MemAvailable_bytes (absent before Linux 3.14)
 *   P_memory_buffers_bytes     node_memory_Buffers_bytes      P_memory_cached_bytes ..Cached..
 *   P_swap_total_bytes         node_memory_SwapTotal_bytes    P_swap_free_bytes     ..SwapFree..
 *   All gauges. os_mon memsup:get_system_memory_data().
 *
 * os_filesystem_polling_metrics (/proc/self/mounts with \ooo escapes decoded, then statvfs):
 *   labels device, mountpoint, fstype (as node_exporter). All gauges.
 *   P_filesystem_size_bytes       f_blocks * f_frsize   node_filesystem_size_bytes
 *   P_filesystem_free_bytes       f_bfree * f_frsize    node_filesystem_free_bytes
 *   P_filesystem_available_bytes  f_bavail * f_frsize   node_filesystem_avail_bytes
 *   P_filesystem_files            f_files               node_filesystem_files
 *   P_filesystem_files_free       f_ffree               node_filesystem_files_free
 *   os_mon disksup:get_disk_data(). statvfs on a hung network filesystem blocks the promex
 *   thread (as it blocks df): exclude such mounts. A mount point that a poll no longer
 *   reports (unmounted, filtered out, statvfs failing) has its series removed from every metric
 *   above; mounted again, it starts fresh series.
 *
 * os_network_polling_metrics (/proc/net/dev), label device. An interface that disappears has
 * its series removed; re-created under the same name, it starts fresh counters. All counters:
 *   P_network_receive_bytes_total     node_network_receive_bytes_total
 *   P_network_transmit_bytes_total    node_network_transmit_bytes_total
 *   P_network_receive_packets_total   node_network_receive_packets_total
 *   P_network_transmit_packets_total  node_network_transmit_packets_total
 *   P_network_receive_errors_total    node_network_receive_errs_total
 *   P_network_transmit_errors_total   node_network_transmit_errs_total
 *
 * Poll cost (tests/unit/plugins/plugin_poll_cost, 1000 runs, 2 vCPU VM under load, Debian 12;
 * see docs/plugins.md), per poll: load 5 us, cpu 11 us (grows with the size of /proc/stat: CPUs
 * and interrupts), memory 12 us, filesystem 28 us (38 mount entries, 1 kept; plus one statvfs per
 * kept mount), network 16 us (4 interfaces). After the first polls no poll allocates (read
 * buffers and per-interface state are reused).
 *
 * Threading: all groups are polling groups on the promex thread. */
#ifndef PROMEX_PLUGINS_OS_H
#define PROMEX_PLUGINS_OS_H

#include "promex/export.h"
#include "promex/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PMX_OS_DEFAULT_FS_EXCLUDE_TYPES                                                      \
  "autofs,binfmt_misc,bpf,cgroup,cgroup2,configfs,debugfs,devpts,devtmpfs,efivarfs,fusectl," \
  "fuse.lxcfs,hugetlbfs,iso9660,mqueue,nsfs,proc,procfs,pstore,ramfs,rpc_pipefs,securityfs,"  \
  "selinuxfs,squashfs,sysfs,tmpfs,tracefs"
#define PMX_OS_DEFAULT_FS_EXCLUDE_MOUNTS                                                    \
  "/dev,/dev/,/proc,/proc/,/sys,/sys/,/run/credentials/,/var/lib/docker/," \
  "/var/lib/containers/storage/,/snap/"
#define PMX_OS_DEFAULT_NET_EXCLUDE "lo"

/* The plugin table. Name "os". */
PMX_EXTERN extern const pmx_plugin_t pmx_plugin_os;

#ifdef __cplusplus
}
#endif
#endif
