//! The blueprint is checked when the agent compiles, and its model compiled in
//! (`blueprint::build_script`): a broken blueprint is a build error.

fn main() {
    blueprint::build_script::emit();
}
