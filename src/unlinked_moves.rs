//! `moved` rows the linkage table lacks: a run killed (SIGKILL, power loss) after it moved an
//! output and before it appended the move's `moved` row (the move is on record in the audit
//! log, announced before it was made; the row follows it, as in the freed-name phase of
//! [`crate::supersede::give_freed_names`]). The re-run finds the input done earlier at the new
//! name, while the table's last `file` row of that input still names the old one: it writes the
//! missing `moved,<old>,<new>` row before the input's `file` row, so the table holds the rows an
//! uninterrupted run writes.
//!
//! Only the moves the audit records are candidates, and only a table whose latest `file` row of
//! the input names the move's origin, with no `moved` row of that move after it, lacks one: a
//! table made after the move (a fresh `--linkage` on an existing OUT) names the new place and
//! gets no `moved` row, and an output that a lower hash displaced later (its name then holds
//! another output) is not re-pointed.

use crate::linkage::{Kind, LinkageWriter, path_bytes};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The audit's moves, and what the table said about their origins when the run started.
#[derive(Debug, Default)]
pub struct UnlinkedMoves {
    /// Destination → the origins of the audit's moves to it.
    into: HashMap<String, Vec<String>>,
    /// Input path (its bytes, as the table writes it) → the origin of a move its latest `file`
    /// row names, with that row's number.
    named: HashMap<Vec<u8>, (String, usize)>,
    /// (origin, destination) → the number of the table's latest `moved` row of that move
    /// (`usize::MAX` once this run wrote it).
    moved: HashMap<(String, String), usize>,
}

impl UnlinkedMoves {
    /// Read the table at `table` for the moves `moves` ((origin, destination) pairs, from the
    /// audit log). Nothing is read when there are none; a table that does not exist or cannot
    /// be read lacks nothing (the writer that opened it reports its errors).
    pub fn read(table: &Path, moves: &[(String, String)]) -> UnlinkedMoves {
        let mut found = UnlinkedMoves::default();
        if moves.is_empty() {
            return found;
        }
        for (from, to) in moves {
            found.into.entry(to.clone()).or_default().push(from.clone());
        }
        let origins: HashSet<&[u8]> = moves.iter().map(|(from, _)| from.as_bytes()).collect();
        let Ok(file) = std::fs::File::open(table) else { return found };
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(file);
        for (row, rec) in rdr.byte_records().enumerate() {
            let Ok(rec) = rec else { break };
            let field = |i: usize| rec.get(i).unwrap_or_default();
            if field(0) == Kind::File.word().as_bytes() {
                if origins.contains(field(2)) {
                    let origin = String::from_utf8_lossy(field(2)).into_owned();
                    found.named.insert(field(1).to_vec(), (origin, row));
                } else {
                    found.named.remove(field(1));
                }
            } else if field(0) == Kind::Moved.word().as_bytes() {
                let pair =
                    (String::from_utf8_lossy(field(1)).into_owned(), String::from_utf8_lossy(field(2)).into_owned());
                found.moved.insert(pair, row);
            }
        }
        found
    }

    /// Before the `file` row of `input`, whose output is now at `at`: append the `moved` row of
    /// the audit's move to `at` that the table lacks for this input (see the module doc), once.
    ///
    /// # Errors
    /// The writer's error when the row cannot be written.
    pub fn complete(&mut self, table: &mut LinkageWriter, input: &Path, at: &str) -> Result<(), crate::linkage::Error> {
        let Some(origins) = self.into.get(at) else { return Ok(()) };
        let Some((origin, row)) = self.named.get(path_bytes(input).as_ref()) else { return Ok(()) };
        if !origins.contains(origin) {
            return Ok(());
        }
        let pair = (origin.clone(), at.to_string());
        if self.moved.get(&pair).is_some_and(|moved| moved > row) {
            return Ok(());
        }
        table.add(Kind::Moved, &pair.0, &pair.1)?;
        self.moved.insert(pair, usize::MAX);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.csv");
        std::fs::write(&path, format!("kind,original,pseudonymized\n{rows}")).unwrap();
        (dir, path)
    }

    fn rows(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path).unwrap().lines().map(str::to_string).collect()
    }

    #[test]
    fn a_move_the_table_lacks_gets_its_row_once_before_the_file_row() {
        let (_dir, path) = table("key,f,\nfile,/in/b.dcm,P/b.0123456789ab.dcm\nsuperseded,/in/a.dcm,P/b.dcm\n");
        let moves = vec![("P/b.0123456789ab.dcm".to_string(), "P/b.dcm".to_string())];
        let mut missing = UnlinkedMoves::read(&path, &moves);
        let mut writer = LinkageWriter::open(&path, "f").unwrap();
        missing.complete(&mut writer, Path::new("/in/b.dcm"), "P/b.dcm").unwrap();
        missing.complete(&mut writer, Path::new("/in/b.dcm"), "P/b.dcm").unwrap();
        writer.add_path(Kind::File, Path::new("/in/b.dcm"), "P/b.dcm").unwrap();
        writer.flush().unwrap();
        let all = rows(&path);
        assert_eq!(all[all.len() - 2..], ["moved,P/b.0123456789ab.dcm,P/b.dcm", "file,/in/b.dcm,P/b.dcm"]);
    }

    #[test]
    fn a_move_already_in_the_table_or_of_an_output_named_elsewhere_gets_no_row() {
        let moves = vec![("X.dcm".to_string(), "X.0123456789ab.dcm".to_string())];
        // The move is there after the file row; and a table that names the input's output
        // only where it is now (made after the move) or where it went later.
        for rows_before in [
            "file,/in/a.dcm,X.dcm\nmoved,X.dcm,X.0123456789ab.dcm\n",
            "file,/in/a.dcm,X.0123456789ab.dcm\n",
            "file,/in/a.dcm,X.dcm\nfile,/in/a.dcm,Y.dcm\n",
        ] {
            let (_dir, path) = table(rows_before);
            let before = rows(&path);
            let mut missing = UnlinkedMoves::read(&path, &moves);
            let mut writer = LinkageWriter::open(&path, "f").unwrap();
            missing.complete(&mut writer, Path::new("/in/a.dcm"), "X.0123456789ab.dcm").unwrap();
            missing.complete(&mut writer, Path::new("/in/other.dcm"), "X.0123456789ab.dcm").unwrap();
            writer.flush().unwrap();
            let after = rows(&path);
            assert!(!after[before.len()..].iter().any(|r| r.starts_with("moved,")), "{rows_before}: {after:?}");
        }
    }
}
