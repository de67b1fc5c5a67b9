//! The replicas of a data-parallel job and the few MPI collectives
//! training needs, over flat slices.

use mpi::collective::SystemOperation;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::traits::{CommunicatorCollectives, Equivalence, Root};

use crate::model_error::NnError;

/// The processes of a data-parallel job (MPI's `COMM_WORLD`): each holds
/// one replica of the model. Made by [`super::run`].
pub struct Replicas {
    pub(super) world: SimpleCommunicator,
    rank: usize,
    size: usize,
}

const ROOT: i32 = 0;

impl Replicas {
    /// The world communicator of an initialised MPI.
    pub(super) fn world() -> Self {
        let world = SimpleCommunicator::world();
        let rank = world.rank() as usize;
        let size = world.size() as usize;
        Self { world, rank, size }
    }

    /// This process's index, `0..size()`.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The number of replicas.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Rank 0: the one that prints progress and writes checkpoints and logs.
    pub fn is_root(&self) -> bool {
        self.rank == 0
    }

    /// Overwrites `buffer` on every rank with rank 0's.
    pub(super) fn broadcast<T: Equivalence>(&self, buffer: &mut [T]) -> Result<(), NnError> {
        check_count(buffer.len())?;
        self.world.process_at_rank(ROOT).broadcast_into(buffer);
        Ok(())
    }

    /// `sum[i] = Σ over ranks of local[i]`, on every rank (`MPI_Allreduce`);
    /// every rank must call it with the same length. For figures of your
    /// own, and to time the all-reduce of a gradient-sized buffer.
    pub fn sum_into<T: Equivalence>(&self, local: &[T], sum: &mut [T]) -> Result<(), NnError> {
        check_count(local.len())?;
        if local.len() != sum.len() {
            return Err(NnError::Other(format!(
                "internal error: all-reduce of {} values into {}",
                local.len(),
                sum.len()
            )));
        }
        self.world.all_reduce_into(local, sum, SystemOperation::sum());
        Ok(())
    }

    /// Every rank's `local` (all of one length), rank by rank.
    pub(super) fn all_gather(&self, local: &[u64]) -> Result<Vec<u64>, NnError> {
        check_count(local.len() * self.size)?;
        let mut all = vec![0u64; local.len() * self.size];
        self.world.all_gather_into(local, &mut all[..]);
        Ok(all)
    }
}

/// MPI counts are C `int`s.
fn check_count(len: usize) -> Result<(), NnError> {
    if i32::try_from(len).is_err() {
        return Err(NnError::Other(format!(
            "distributed training: a buffer of {len} values is more than one MPI message can hold ({})",
            i32::MAX
        )));
    }
    Ok(())
}
