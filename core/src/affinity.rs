//! Pinning scheduler threads to CPUs.
//!
//! Scheduler `i` is pinned to the `i`-th CPU in this process's allowed set
//! (`sched_getaffinity`), wrapping around when there are more schedulers
//! than CPUs. Pinning keeps a scheduler's processes, mailboxes and timer
//! wheel in one core's caches. If the kernel refuses (a container without
//! the permission, say), the scheduler logs a warning and runs unpinned:
//! a slower node is better than none.

use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;

/// The CPUs this process may run on, in increasing order.
pub(crate) fn allowed_cpus() -> Vec<usize> {
    match sched_getaffinity(Pid::from_raw(0)) {
        Ok(set) => (0..CpuSet::count())
            .filter(|&c| set.is_set(c).unwrap_or(false))
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the CPU affinity mask; schedulers run unpinned");
            Vec::new()
        }
    }
}

/// Pin the calling thread to `cpu`.
pub(crate) fn pin_current(cpu: usize) {
    let mut set = CpuSet::new();
    let res = set
        .set(cpu)
        .and_then(|()| sched_setaffinity(Pid::from_raw(0), &set));
    if let Err(e) = res {
        tracing::warn!(cpu, error = %e, "cannot pin scheduler thread; it runs unpinned");
    }
}

/// The CPU the calling thread is allowed on, if it is exactly one.
pub fn current_pinned_cpu() -> Option<usize> {
    let set = sched_getaffinity(Pid::from_raw(0)).ok()?;
    let mut cpus = (0..CpuSet::count()).filter(|&c| set.is_set(c).unwrap_or(false));
    let first = cpus.next()?;
    cpus.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinning_a_thread_restricts_it_to_one_cpu() {
        let cpus = allowed_cpus();
        assert!(!cpus.is_empty());
        let cpu = *cpus.last().expect("one cpu");
        let got = std::thread::spawn(move || {
            pin_current(cpu);
            current_pinned_cpu()
        })
        .join()
        .expect("thread");
        assert_eq!(got, Some(cpu));
    }
}
