//! The same inputs, key and settings give the same bytes, whatever the number of threads.

use crate::util::*;

#[test]
fn one_and_two_threads_give_identical_outputs_and_audits() {
    let wd = Workdir::new("one_and_two_threads_give_identical_outputs_and_audits");
    write_small_archive(&wd, 60);
    let k = key(&wd, "k.key", 7);
    let k = k.to_str().unwrap();
    let one = wd.kamei(["deid", "in", "-o", "one", "--key", k, "-q", "-j1"]);
    one.assert_code(0);
    let two = wd.kamei(["deid", "in", "-o", "two", "--key", k, "-q", "-j2"]);
    two.assert_code(0);
    assert_eq!(wd.dicom_outputs("one").len(), 60);
    assert_same_tree(&wd, "one", "two");
    let canaries: Vec<String> = (0..6).map(|p| format!("{CANARY_ID}{p}")).collect();
    let canaries: Vec<&str> = [CT_CANARIES, &canaries.iter().map(String::as_str).collect::<Vec<_>>()].concat();
    assert_no_leak(&wd, "one", &one, &canaries);
    assert_no_leak(&wd, "two", &two, &canaries);
}
