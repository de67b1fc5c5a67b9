// A callback can change the weights' values but never their lengths, which
// the generated code relies on (issue: `ctx.params.truncate(1)` used to
// compile and crash the next training step).
use nn::prelude::*;

struct Shrink;

impl Callback for Shrink {
    fn on_epoch_end(&mut self, _epoch: usize, _logs: &mut Logs, ctx: &mut CallbackContext) -> Result<(), NnError> {
        ctx.params.truncate(1);
        ctx.params_mut().truncate(1);
        ctx.state_mut().clear();
        Ok(())
    }
}

fn main() {}
