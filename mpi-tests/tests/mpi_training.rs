//! Data-parallel training under `mpirun -np 2` (feature `mpi`; Open MPI's
//! `mpirun` must be on the PATH).
//!
//! Each test starts `mpirun -np 2` on this test binary with only the ignored
//! test `mpi_rank` selected; `NN_MPI_CASE` tells the ranks what to do and
//! `NN_MPI_OUT` where to leave their weights, logs and errors. The tests then
//! read those files, the exit status and the tagged output.

#[path = "../../examples/networks/fashion_residual.rs"]
mod fashion_residual;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fashion_residual::ResidualNet;
use nn::network;
use nn::prelude::*;
use nn::rand::SeedableRng;
use nn::runtime::train::distributed::{self, Replicas};

network! {
    fn smooth_residual_block(x, n) {
        let a = Conv2D(n, 3, padding = same, activation = tanh)(x);
        let z = Conv2D(n, 3, padding = same)(a);
        tanh(add(z, x))
    }

    /// The lecture's residual network ([`ResidualNet`]) without kinks: tanh
    /// for relu, average for max pooling; the same layer shapes, so the
    /// convolutions run the same algorithms (the cost rule picks Winograd
    /// F(4x4) for every 3x3 layer after the first; the 20-order figures
    /// below were measured when it picked the 32 -> 32 ones only).
    ///
    /// Training trajectories are compared on it. On the relu network a
    /// rounding difference can flip a kink (a pre-activation at 0, the
    /// larger of two pooled values), which changes that step's gradient by
    /// far more than rounding, and momentum carries the change on. Measured
    /// over these 10 SGD steps with 2 ranks emulated in one process, on 20
    /// data orders: the relu network ended over 1e-5 from the single process
    /// in 7 orders with direct convolutions everywhere and in 15 with the
    /// cost rule (F(4x4) computes an exact zero or an exact tie as a
    /// cancellation, so rounding decides the kink); this network stayed
    /// within 1.1e-7 in all 20 under every algorithm.
    pub struct SmoothResidualNet {
        input x: [28, 28, 1];
        let x0 = Conv2D(16, 3, padding = same, activation = tanh)(x);
        let x1 = smooth_residual_block(x0, 16);
        let x2 = Conv2D(32, 3, padding = same, activation = tanh)(x1);
        let x2 = AveragePooling2D(2)(x2);
        let x2 = smooth_residual_block(x2, 32);
        let x2 = AveragePooling2D(2)(x2);
        output y = Dense(10, activation = softmax)(flatten(x2));
    }
}

/// 4 full global batches of 32 and one of a single sample, which rank 0
/// takes alone (rank 1 then contributes a zero gradient).
const TRAIN_SAMPLES: usize = 129;
/// Uneven on purpose: 26 and 25 samples per rank.
const VALIDATION_SAMPLES: usize = 51;
const GLOBAL_BATCH: usize = 32;
/// A run that failure handling must cut short: far longer than any bound below.
const LONG_EPOCHS: usize = 1000;
/// `mpirun --timeout`: what a hang would cost before mpirun ends it.
const MPIRUN_TIMEOUT_S: u64 = 120;
/// How long a job with a failing rank may take to end, start-up included
/// (start-up alone is about a second; a hang would take the timeout).
const FAILURE_BOUND: Duration = Duration::from_secs(30);
/// The poisoned sample in the NaN cases: in the third global batch
/// (samples 64..96, unshuffled), in rank 1's half (80..96).
const POISONED_SAMPLE: usize = 84;

fn data() -> (Dataset, Dataset) {
    // The root package vendors the data; this package sits one folder below it.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/fashion-mnist-subset");
    let (train, test) = datasets::fashion_mnist(&dir).expect("the vendored Fashion-MNIST subset");
    let to_dataset = |images: &nn::runtime::io::datasets::LabelledImages, n: usize| {
        let x = images.images.slice(nn::ndarray::s![..n, .., .., ..]).to_owned();
        Dataset::new(x, one_hot(&images.labels[..n], 10).unwrap()).unwrap()
    };
    (
        to_dataset(&train, TRAIN_SAMPLES),
        to_dataset(&test, VALIDATION_SAMPLES),
    )
}

/// Keras's SGD with momentum: its update is linear in the gradient, so on a
/// network without kinks ([`SmoothResidualNet`]) two summation orders of
/// the same gradient stay rounding apart.
fn sgd_trainer() -> Trainer<Sgd> {
    Trainer::new(
        Sgd::with_momentum(0.01, 0.9, false),
        Loss::CategoricalCrossentropy,
    )
    .with_accuracy()
}

/// The lecture's optimizer. Adam divides each update by the root of the
/// gradient's running square, so a weight whose gradient is near zero moves
/// by up to the learning rate in a direction that rounding decides; two
/// summation orders drift apart step by step even without kinks (measured
/// on the relu network with direct convolutions: 1.2e-7 after 3 steps,
/// 1.2e-6 after 4, 1e-4 after 5; on [`SmoothResidualNet`] after 3 steps, up
/// to 1.0e-6 over 6 data orders and 4 convolution algorithms). Compared
/// over [`ADAM_STEPS`] steps only.
fn lecture_trainer() -> Trainer<Adam> {
    Trainer::new(Adam::with_betas(1e-3, 0.9, 0.999), Loss::CategoricalCrossentropy).with_accuracy()
}

const ADAM_STEPS: usize = 3;

fn config(epochs: usize, shuffle: bool) -> FitConfig {
    FitConfig {
        epochs,
        batch_size: GLOBAL_BATCH,
        shuffle,
        seed: 7,
        verbosity: Verbosity::OneLine,
        ..FitConfig::default()
    }
}

fn poison(data: &mut Dataset) {
    let len = data.inputs[0].sample_len();
    data.inputs[0].data[POISONED_SAMPLE * len + 400] = f32::NAN;
}

/// Panics at the end of the second epoch (on rank 0, where callbacks run).
struct PanicAtSecondEpoch;

impl Callback for PanicAtSecondEpoch {
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        _logs: &mut Logs,
        _ctx: &mut nn::runtime::train::CallbackContext,
    ) -> Result<(), NnError> {
        assert!(epoch < 1, "a callback bug at the end of epoch {}", epoch + 1);
        Ok(())
    }
}

/// Sets the learning rate when an epoch begins, asks to stop after the
/// second epoch and zeroes the weights when training ends: what rank 0's
/// callbacks do must reach every rank.
struct StopAndZero;

impl Callback for StopAndZero {
    fn on_epoch_begin(
        &mut self,
        epoch: usize,
        ctx: &mut nn::runtime::train::CallbackContext,
    ) -> Result<(), NnError> {
        ctx.set_learning_rate(0.5 / (epoch + 1) as f32)
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        _logs: &mut Logs,
        ctx: &mut nn::runtime::train::CallbackContext,
    ) -> Result<(), NnError> {
        if epoch == 1 {
            ctx.stop_training();
        }
        Ok(())
    }

    fn on_train_end(&mut self, ctx: &mut nn::runtime::train::CallbackContext) -> Result<(), NnError> {
        ctx.params_mut().fill(0.0);
        Ok(())
    }
}

/// What one rank does in each case.
fn rank_program(case: &str, out: &Path, replicas: &Replicas) -> Result<(), NnError> {
    let rank = replicas.rank();
    let file = |name: &str| out.join(format!("{name}_rank{rank}"));
    // Different initial weights on every rank: rank 0's must win.
    let mut net = ResidualNet::new(&mut nn::rand::rngs::StdRng::seed_from_u64(42 + rank as u64));
    let mut trainer = sgd_trainer();
    let (mut train, validation) = data();
    let record = |result: Result<History, NnError>| -> Result<(), NnError> {
        let message = match result {
            Ok(_) => "no error".to_string(),
            Err(e) => e.to_string(),
        };
        std::fs::write(file("error.txt"), message).map_err(|e| NnError::Other(e.to_string()))
    };
    match case {
        "match" => {
            let mut net =
                SmoothResidualNet::new(&mut nn::rand::rngs::StdRng::seed_from_u64(42 + rank as u64));
            let mut log = CsvLogger::new(file("log.csv"));
            let mut checkpoint = ModelCheckpoint::new(file("checkpoint.safetensors"), "val_loss", false);
            let history = trainer.fit_distributed(
                &mut net,
                &train,
                Some(&validation),
                &config(2, true),
                &mut [&mut log, &mut checkpoint],
                replicas,
            )?;
            std::fs::write(file("history.csv"), history.to_csv())
                .map_err(|e| NnError::Other(e.to_string()))?;
            let evaluated = trainer.evaluate_distributed(&mut net, &validation, 8, replicas)?;
            std::fs::write(file("evaluate.txt"), evaluated.line())
                .map_err(|e| NnError::Other(e.to_string()))?;
            net.save_weights(file("weights.safetensors"))?;

            let mut net =
                SmoothResidualNet::new(&mut nn::rand::rngs::StdRng::seed_from_u64(42 + rank as u64));
            let first = train.select(&(0..ADAM_STEPS * GLOBAL_BATCH).collect::<Vec<_>>())?;
            lecture_trainer().fit_distributed(&mut net, &first, None, &config(1, true), &mut [], replicas)?;
            net.save_weights(file("adam.safetensors"))
        }
        "nan" => {
            poison(&mut train);
            trainer.fit_distributed(
                &mut net,
                &train,
                None,
                &config(LONG_EPOCHS, false),
                &mut [],
                replicas,
            )?;
            Ok(())
        }
        "nan-handled" => {
            poison(&mut train);
            record(trainer.fit_distributed(
                &mut net,
                &train,
                None,
                &config(LONG_EPOCHS, false),
                &mut [],
                replicas,
            ))
        }
        "mismatch" => {
            let train = if rank == 1 {
                train.select(&(0..TRAIN_SAMPLES - 1).collect::<Vec<_>>())?
            } else {
                train
            };
            record(trainer.fit_distributed(
                &mut net,
                &train,
                None,
                &config(LONG_EPOCHS, false),
                &mut [],
                replicas,
            ))
        }
        "callbacks" => {
            let long = config(LONG_EPOCHS, false);
            let history =
                trainer.fit_distributed(&mut net, &train, None, &long, &mut [&mut StopAndZero], replicas)?;
            let zeroed = net.params().iter().all(|&w| w == 0.0);
            let rate = trainer.optimizer.learning_rate();
            let summary = format!("epochs={} zeroed={zeroed} rate={rate}", history.epochs.len());
            std::fs::write(file("callbacks.txt"), summary).map_err(|e| NnError::Other(e.to_string()))?;
            // A checkpoint rank 0 cannot write: every rank gets an error.
            let mut unwritable =
                ModelCheckpoint::new(out.join("no such folder/weights.safetensors"), "loss", false);
            record(trainer.fit_distributed(&mut net, &train, None, &long, &mut [&mut unwritable], replicas))
        }
        "panic" => {
            let mut bug = PanicAtSecondEpoch;
            trainer.fit_distributed(
                &mut net,
                &train,
                None,
                &config(LONG_EPOCHS, false),
                &mut [&mut bug],
                replicas,
            )?;
            Ok(())
        }
        "crash" => {
            if rank == 1 {
                // A rank that dies mid-training without a word (as an
                // out-of-memory kill would), while rank 0 waits in a step.
                std::thread::spawn(|| {
                    std::thread::sleep(Duration::from_millis(1500));
                    std::process::abort();
                });
            }
            trainer.fit_distributed(
                &mut net,
                &train,
                None,
                &config(LONG_EPOCHS, false),
                &mut [],
                replicas,
            )?;
            Ok(())
        }
        other => Err(NnError::Other(format!("unknown NN_MPI_CASE `{other}`"))),
    }
}

/// The MPI program the other tests start (`cargo test` lists it as
/// ignored; by itself it has no case to run).
#[test]
#[ignore = "an MPI rank: the other tests in this file start it under mpirun"]
fn mpi_rank() {
    let case = std::env::var("NN_MPI_CASE").expect("NN_MPI_CASE: set by the tests that start mpirun");
    let out = PathBuf::from(std::env::var("NN_MPI_OUT").expect("NN_MPI_OUT: set with NN_MPI_CASE"));
    distributed::run(|replicas| rank_program(&case, &out, replicas)).unwrap();
}

struct Job {
    success: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    out: PathBuf,
}

impl Job {
    fn read(&self, name: &str, rank: usize) -> Option<String> {
        std::fs::read_to_string(self.out.join(format!("{name}_rank{rank}"))).ok()
    }

    fn describe(&self) -> String {
        format!(
            "exit {:?} after {:.1} s\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.elapsed.as_secs_f64(),
            self.stdout,
            self.stderr
        )
    }
}

/// `mpirun -np 2` on this binary's `mpi_rank`, on this machine only.
fn mpirun(case: &str) -> Job {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("mpi_{case}"));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let me = std::env::current_exe().unwrap();
    let started = Instant::now();
    let output = Command::new("mpirun")
        .args([
            "-np",
            "2",
            "--tag-output",
            "--timeout",
            &MPIRUN_TIMEOUT_S.to_string(),
        ])
        .arg(&me)
        .args([
            "mpi_rank",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("NN_MPI_CASE", case)
        .env("NN_MPI_OUT", &out)
        // One kernel thread per rank: two ranks share the two cores.
        .env("NN_NUM_THREADS", "1")
        // Open MPI refuses to start as root (CI, containers) without both.
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        // Shared memory between the ranks, and the launcher's own TCP on
        // the loopback interface: nothing leaves this machine.
        .env("OMPI_MCA_btl", "self,vader")
        .env("OMPI_MCA_oob_tcp_if_include", "lo")
        .output()
        .expect("mpirun (Open MPI: apt-get install openmpi-bin libopenmpi-dev)");
    Job {
        success: output.status.success(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
        out,
    }
}

fn load(path: &Path) -> SmoothResidualNet {
    let mut net = SmoothResidualNet::new(&mut nn::rand::rngs::StdRng::seed_from_u64(0));
    net.load_weights(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    net
}

fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn assert_failed_quickly(job: &Job) {
    assert!(!job.success, "the job should have failed: {}", job.describe());
    assert!(
        job.elapsed < FAILURE_BOUND,
        "the job took {:.1} s to end (bound {} s): {}",
        job.elapsed.as_secs_f64(),
        FAILURE_BOUND.as_secs(),
        job.describe()
    );
    println!(
        "job ended with exit {:?} after {:.2} s",
        job.code,
        job.elapsed.as_secs_f64()
    );
}

#[test]
fn two_ranks_at_global_batch_32_end_with_the_single_process_weights() {
    let (train, validation) = data();
    let fresh = || SmoothResidualNet::new(&mut nn::rand::rngs::StdRng::seed_from_u64(42));
    let quiet = |epochs| FitConfig {
        verbosity: Verbosity::Quiet,
        ..config(epochs, true)
    };
    let mut single = fresh();
    let mut trainer = sgd_trainer();
    let history = trainer
        .fit(&mut single, &train, Some(&validation), &quiet(2), &mut [])
        .unwrap();
    let evaluated = trainer.evaluate(&mut single, &validation, 8).unwrap();
    let mut single_adam = fresh();
    let first = train
        .select(&(0..ADAM_STEPS * GLOBAL_BATCH).collect::<Vec<_>>())
        .unwrap();
    lecture_trainer()
        .fit(&mut single_adam, &first, None, &quiet(1), &mut [])
        .unwrap();

    let job = mpirun("match");
    assert!(job.success, "{}", job.describe());
    let rank0 = load(&job.out.join("weights.safetensors_rank0"));
    let rank1 = load(&job.out.join("weights.safetensors_rank1"));
    for (what, single, rank0, rank1) in [
        ("SGD, 10 steps", &single, rank0, rank1),
        (
            "Adam, 3 steps",
            &single_adam,
            load(&job.out.join("adam.safetensors_rank0")),
            load(&job.out.join("adam.safetensors_rank1")),
        ),
    ] {
        let moved = max_difference(single.params(), fresh().params());
        let apart = max_difference(single.params(), rank0.params());
        println!(
            "{what}: max |single - rank 0| = {apart:e} over {} weights (training moved them by up to {moved:e})",
            single.params().len()
        );
        assert!(moved > 1e-3, "{what}: training should move the weights: {moved}");
        assert!(
            apart <= 1e-5,
            "{what}: rank 0 ends {apart:e} away from the single process"
        );
        assert_eq!(
            rank0.params(),
            rank1.params(),
            "{what}: the replicas end with different weights"
        );
    }

    // The figures are over both ranks' samples: the single process's.
    let distributed_history = job.read("history.csv", 0).unwrap();
    let rows: Vec<Vec<f64>> = distributed_history
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(
        history.names(),
        ["loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"]
    );
    assert_eq!(rows.len(), 2);
    for (epoch, (row, logs)) in rows.iter().zip(&history.epochs).enumerate() {
        for (value, (name, expected)) in row.iter().zip(&logs.values) {
            assert!(
                (value - expected).abs() <= 1e-5,
                "epoch {epoch} {name}: {value} vs {expected}"
            );
        }
    }
    assert_eq!(
        job.read("history.csv", 1),
        Some(distributed_history),
        "both ranks return the same history"
    );
    let evaluated_line = job.read("evaluate.txt", 0).unwrap();
    assert_eq!(
        evaluated_line,
        evaluated.line(),
        "evaluate over both ranks' parts"
    );
    assert_eq!(job.read("evaluate.txt", 1), Some(evaluated_line));

    // Only rank 0 prints and writes callbacks' files.
    assert!(job.read("log.csv", 0).is_some_and(|csv| csv.lines().count() == 3));
    assert!(
        job.out.join("checkpoint.safetensors_rank0").exists(),
        "rank 0 wrote no checkpoint"
    );
    assert_eq!(job.read("log.csv", 1), None, "rank 1 wrote a CSV log");
    assert!(
        !job.out.join("checkpoint.safetensors_rank1").exists(),
        "rank 1 wrote a checkpoint"
    );
    // mpirun tags each piece a rank writes (libtest's `test mpi_rank ... `
    // has no newline, so a tag can sit mid-line).
    let epoch_lines = |rank: usize| job.stdout.matches(&format!("[1,{rank}]<stdout>:Epoch ")).count();
    // Two epochs of SGD, one of Adam.
    assert_eq!((epoch_lines(0), epoch_lines(1)), (3, 0), "{}", job.describe());
}

#[test]
fn a_rank_whose_loss_turns_nan_mid_training_ends_the_job() {
    let job = mpirun("nan");
    assert_failed_quickly(&job);
    assert!(
        job.stderr.contains(
            "nn: rank 1 of 2: error: ResidualNet: the loss became NaN or infinite at epoch 1, step 3;"
        ),
        "{}",
        job.describe()
    );
}

#[test]
fn every_rank_returns_an_error_in_the_step_where_one_rank_failed() {
    let job = mpirun("nan-handled");
    assert!(job.success, "the ranks handled their errors: {}", job.describe());
    println!("both ranks returned after {:.2} s", job.elapsed.as_secs_f64());
    assert!(job.elapsed < FAILURE_BOUND, "{}", job.describe());
    let rank0 = job.read("error.txt", 0).unwrap();
    let rank1 = job.read("error.txt", 1).unwrap();
    assert!(
        rank1.contains("ResidualNet: the loss became NaN or infinite at epoch 1, step 3;"),
        "{rank1}"
    );
    assert!(
        rank0.contains("the averaged gradient is not finite at epoch 1, step 3 of 5 (rank 0 of 2)"),
        "{rank0}"
    );
}

#[test]
fn ranks_with_different_data_refuse_to_train() {
    let job = mpirun("mismatch");
    assert!(job.success, "the ranks handled their errors: {}", job.describe());
    let expected = format!(
        "ResidualNet: the ranks differ in training samples: rank 0 has {}, rank 1 has {}",
        TRAIN_SAMPLES,
        TRAIN_SAMPLES - 1
    );
    for rank in 0..2 {
        let error = job.read("error.txt", rank).unwrap();
        assert!(error.starts_with(&expected), "rank {rank}: {error}");
    }
}

#[test]
fn a_rank_that_panics_mid_training_ends_the_job() {
    let job = mpirun("panic");
    assert_failed_quickly(&job);
    assert!(
        job.stderr.contains("a callback bug at the end of epoch 2"),
        "{}",
        job.describe()
    );
    assert!(
        job.stderr
            .contains("nn: rank 0 of 2 panicked; ending the MPI job"),
        "{}",
        job.describe()
    );
}

#[test]
fn a_rank_that_dies_mid_training_ends_the_job() {
    let job = mpirun("crash");
    assert_failed_quickly(&job);
}

#[test]
fn rank_0s_callbacks_stop_change_and_fail_every_rank() {
    let job = mpirun("callbacks");
    assert!(job.success, "{}", job.describe());
    for rank in 0..2 {
        assert_eq!(
            job.read("callbacks.txt", rank).as_deref(),
            Some("epochs=2 zeroed=true rate=0.25"),
            "rank {rank}"
        );
    }
    let rank0 = job.read("error.txt", 0).unwrap();
    let rank1 = job.read("error.txt", 1).unwrap();
    assert!(rank0.contains("no such folder"), "{rank0}");
    assert_eq!(rank1, "ResidualNet: a callback failed on rank 0 (see its error)");
}
