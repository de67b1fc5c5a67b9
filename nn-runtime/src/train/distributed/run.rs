//! Starting and ending an MPI job so that one failing rank ends every rank.

use std::fmt::Display;
use std::io::Write;
use std::panic::PanicHookInfo;
use std::sync::Arc;

use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::Threading;

use super::Replicas;
use crate::model_error::NnError;

/// The exit code of a rank whose closure returned an error.
const ERROR_EXIT: i32 = 1;
/// The exit code of a rank that panicked (Rust's own panic exit code).
const PANIC_EXIT: i32 = 101;

type Hook = Box<dyn Fn(&PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Initialises MPI, runs `job` with this process's [`Replicas`] and
/// finalises MPI; call it once per process, around everything that
/// communicates.
///
/// Every rank waits for the others inside collective calls, so a rank that
/// stops early would leave the others waiting forever. Hence: if `job`
/// returns an error on any rank, that rank prints it (with its rank) to
/// stderr and ends the whole job with `MPI_Abort` (exit code 1); a panic on
/// any thread of any rank does the same after the usual panic message (exit
/// code 101). A rank killed by a signal is noticed by `mpirun`, which ends
/// the others. Returns an error only when MPI was already initialised.
pub fn run<T, E: Display>(job: impl FnOnce(&Replicas) -> Result<T, E>) -> Result<T, NnError> {
    // Kernels run on a thread pool, but only this thread calls MPI.
    let Some((universe, _threading)) = mpi::initialize_with_threading(Threading::Funneled) else {
        return Err(NnError::Other(
            "distributed::run: MPI is already initialised in this process; call run once, around \
             the whole program"
                .into(),
        ));
    };
    let replicas = Replicas::world();
    let previous: Arc<Hook> = Arc::new(std::panic::take_hook());
    let (rank, size) = (replicas.rank(), replicas.size());
    let chained = Arc::clone(&previous);
    std::panic::set_hook(Box::new(move |info| {
        chained(info);
        say(&format!(
            "nn: rank {rank} of {size} panicked; ending the MPI job (MPI_Abort) so no rank waits for it"
        ));
        SimpleCommunicator::world().abort(PANIC_EXIT)
    }));
    let result = job(&replicas);
    // Back to the hook from before: after MPI_Finalize no MPI call is allowed.
    std::panic::set_hook(Box::new(move |info| previous(info)));
    match result {
        Ok(value) => {
            drop(universe);
            Ok(value)
        }
        Err(error) => {
            say(&format!(
                "nn: rank {rank} of {size}: error: {error}\n\
                 nn: rank {rank} of {size}: ending the MPI job (MPI_Abort) so no rank waits for it"
            ));
            replicas.world.abort(ERROR_EXIT)
        }
    }
}

/// Writes `message` to stderr in one piece, so `mpirun` does not interleave
/// it with another rank's.
fn say(message: &str) {
    let _ = std::io::stderr().write_all(format!("{message}\n").as_bytes());
}
