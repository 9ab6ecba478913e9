//! The runner against the real `terraform` (a named prerequisite: `cargo xtask doctor`), on a
//! root module that needs no provider download: `terraform_data` is built into Terraform, and
//! the state lives in a local backend.

use std::cell::RefCell;
use std::path::Path;

use terraform::{Log, Planned, Stack, StackSpec};

/// Collects what the runner says it runs.
#[derive(Default)]
struct Lines(RefCell<Vec<String>>);

impl Log for Lines {
    fn verbose(&self, line: &str) {
        self.0.borrow_mut().push(line.to_string());
    }
}

fn stack(dir: &Path, module: &str) -> Stack {
    let root = dir.join("module");
    std::fs::create_dir_all(&root).expect("mkdir");
    std::fs::write(root.join("main.tf"), module).expect("write module");
    let backend = dir.join("backend.hcl");
    std::fs::write(
        &backend,
        format!("path = \"{}\"\n", dir.join("state.tfstate").display()),
    )
    .expect("write backend");
    let vars = dir.join("env.tfvars");
    std::fs::write(&vars, "greeting = \"hello\"\n").expect("write vars");
    Stack::new(StackSpec {
        name: "example".into(),
        dir: root,
        label: "test".into(),
        work: dir.join("work"),
        backend_config: backend,
        state_key: None,
        var_file: vars,
    })
}

const MODULE: &str = r#"
terraform {
  backend "local" {}
}
variable "greeting" { type = string }
variable "name" {
  type    = string
  default = "nobody"
}
resource "terraform_data" "message" {
  input = "${var.greeting}, ${var.name}"
}
output "message" { value = terraform_data.message.output }
"#;

#[test]
fn init_once_plan_apply_replan_clean_and_read_outputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stack = stack(dir.path(), MODULE);
    let log = Lines::default();

    assert!(stack.init(&log).expect("init"), "the first init runs");
    assert!(
        !stack.init(&log).expect("init"),
        "an unchanged stack is not initialised again"
    );

    let inputs = [("name".to_string(), serde_json::json!("world"))].into();
    stack.write_inputs(&inputs).expect("inputs");
    let Planned::Changes(summary) = stack.plan(&log, false, true).expect("plan") else {
        panic!("a new resource is a change");
    };
    assert_eq!((summary.add, summary.change, summary.destroy), (1, 0, 0));
    stack.apply(&log).expect("apply");
    assert!(matches!(
        stack.plan(&log, false, true).expect("plan again"),
        Planned::NoChanges
    ));
    let outputs = stack.outputs().expect("outputs");
    assert_eq!(outputs["message"], "hello, world");
    assert!(
        log.0.borrow().iter().any(|l| l.contains("terraform apply")),
        "{:?}",
        log.0.borrow()
    );

    // Destroying is a plan like any other, with what it removes named.
    let Planned::Changes(summary) = stack.plan(&log, true, true).expect("destroy plan") else {
        panic!("destroying a resource is a change");
    };
    assert_eq!(summary.destroyed, ["terraform_data.message"]);
}

#[test]
fn a_broken_module_fails_with_terraforms_own_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stack = stack(dir.path(), &MODULE.replace("var.name}", "var.nme}"));
    let log = Lines::default();
    stack.init(&log).expect("init");
    stack.write_inputs(&Default::default()).expect("inputs");
    let err = stack.plan(&log, false, true).err().expect("the plan fails");
    let text = format!("{err:#}");
    assert!(
        text.contains("terraform plan of stack `example` (test) failed"),
        "{text}"
    );
    assert!(
        text.contains("Reference to undeclared input variable"),
        "{text}"
    );
}
