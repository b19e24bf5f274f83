//! Outputs a `--shard` run left beside the output that supersedes them.
//!
//! When an input path holds other content than when an earlier run wrote it, a whole run
//! removes the earlier output at its end and records it `superseded` ([`crate::supersede`]); a
//! `--shard` run cannot (another shard may still hold that content at a path of its own), and
//! leaves it, with a warning. The audit then records two contents for one input path key
//! ([`crate::audit::AuditRecord::input_path_key`]), each with its own output, and no
//! `superseded` record: the release holds two outputs of one input, one of them stale. The logs
//! do not say which content the path holds now, so both are named.
//!
//! An output that another input path records too is not counted: that path may still make it
//! (the same bytes copied into another folder), and a whole run keeps it then, recording
//! nothing that would end the finding.

use crate::audit::Located;
use std::collections::HashMap;

/// The groups of outputs (names as the index locates them) that one input path's records
/// make, two or more to a group, each made by that path alone. Sorted by path key, so the
/// groups are numbered the same on every run.
pub(super) fn groups(located: &[Located]) -> Vec<Vec<&str>> {
    let mut pairs: Vec<(&str, &str)> = located
        .iter()
        .filter(|l| !l.input_path_key.is_empty())
        .filter_map(|l| Some((l.input_path_key.as_str(), l.output.as_deref()?)))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let several: Vec<&[(&str, &str)]> = pairs.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1).collect();
    if several.is_empty() {
        return Vec::new();
    }
    // How many input paths record each output of those groups.
    let mut paths: HashMap<&str, usize> = several.iter().flat_map(|g| g.iter().map(|(_, o)| (*o, 0))).collect();
    for (_, o) in &pairs {
        if let Some(n) = paths.get_mut(o) {
            *n += 1;
        }
    }
    several
        .into_iter()
        .map(|g| g.iter().map(|(_, o)| *o).filter(|o| paths[o] == 1).collect::<Vec<_>>())
        .filter(|g| g.len() > 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn located(sha: &str, key: &str, output: &str) -> Located {
        Located {
            input_sha256: sha.into(),
            input_path_key: key.into(),
            recorded: output.into(),
            output: Some(output.into()),
            output_sha256: None,
            output_bytes: None,
        }
    }

    #[test]
    fn two_contents_of_one_path_with_outputs_of_their_own_are_one_group() {
        let l = [located("a", "k1", "x/1.dcm"), located("b", "k1", "x/2.dcm"), located("c", "k2", "y/1.dcm")];
        assert_eq!(groups(&l), vec![vec!["x/1.dcm", "x/2.dcm"]]);
    }

    #[test]
    fn an_output_another_path_still_makes_is_not_counted() {
        // k2 holds the content that made x/1.dcm: a whole run keeps it, whatever k1 holds now.
        let l = [located("a", "k1", "x/1.dcm"), located("b", "k1", "x/2.dcm"), located("a", "k2", "x/1.dcm")];
        assert!(groups(&l).is_empty());
    }

    #[test]
    fn records_without_a_path_key_or_of_one_output_are_no_group() {
        let l = [located("a", "", "x/1.dcm"), located("b", "", "x/2.dcm"), located("a", "k", "x/3.dcm")];
        assert!(groups(&l).is_empty());
        // Two contents of one path that make the same output (the change was in a value the
        // profile removes): one output, nothing stale.
        assert!(groups(&[located("a", "k", "x/1.dcm"), located("b", "k", "x/1.dcm")]).is_empty());
    }
}
