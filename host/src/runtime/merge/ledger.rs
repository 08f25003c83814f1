//! Which statement layer a mutation may join: the layers of the earlier
//! mutations of the batch it must not overtake.
//!
//! Two mutations of a batch must keep their order when they can touch a
//! common row, or when one can remove or create a parent row the other's
//! child row needs:
//! - same table: unless both remove rows (deletes commute), or both create
//!   rows of a table without a primary key, they must keep their order when
//!   their keys can meet;
//! - a table and one of its ancestors: the child creates a row, the ancestor
//!   creates or removes one, and the child's key prefix can meet the
//!   ancestor's key (a child row needs its parent; a delete cascades).
//!
//! Everything else commutes: changes never touch a key, an update of a
//! parent leaves its children alone, and the rows of other tenants are
//! other rows (`instance_id` leads every key).

use std::collections::HashMap;

use projection_sdk::Value;

use super::footprint::{Act, Footprint, Tables, overlap};

/// The highest layer of earlier mutations, per kind of act.
#[derive(Debug, Default, Clone, Copy)]
struct Acts([Option<usize>; 3]);

impl Acts {
    fn raise(&mut self, act: Act, layer: usize) {
        let slot = &mut self.0[act.index()];
        *slot = Some(slot.map_or(layer, |l| l.max(layer)));
    }

    fn highest(&self, acts: &[Act]) -> Option<usize> {
        acts.iter().filter_map(|a| self.0[a.index()]).max()
    }
}

/// The earlier mutations of one table.
#[derive(Default)]
struct TableLedger<'m> {
    /// Every mutation.
    all: Acts,
    /// Mutations whose whole key is known, by every prefix of it.
    prefixes: HashMap<Vec<&'m Value>, Acts>,
    /// Mutations with a column of the key left open.
    patterns: Vec<(Vec<Option<&'m Value>>, Act, usize)>,
}

impl<'m> TableLedger<'m> {
    fn record(&mut self, footprint: &Footprint<'m>, layer: usize) {
        self.all.raise(footprint.act, layer);
        let known: Option<Vec<&Value>> = footprint.key.iter().copied().collect();
        match known {
            Some(key) => {
                for n in 1..=key.len() {
                    self.prefixes
                        .entry(key[..n].to_vec())
                        .or_default()
                        .raise(footprint.act, layer);
                }
            }
            None => self
                .patterns
                .push((footprint.key.clone(), footprint.act, layer)),
        }
    }

    /// The highest layer of a mutation with one of `acts` whose key can meet
    /// `key` on its first `key.len()` columns.
    fn highest(&self, key: &[Option<&'m Value>], acts: &[Act]) -> Option<usize> {
        let known = key.iter().take_while(|v| v.is_some()).count();
        if known == 0 {
            return self.all.highest(acts);
        }
        let prefix: Vec<&Value> = key[..known].iter().flatten().copied().collect();
        let points = self.prefixes.get(&prefix).and_then(|a| a.highest(acts));
        let patterns = self
            .patterns
            .iter()
            .filter(|(k, act, _)| acts.contains(act) && overlap(k, key, key.len()))
            .map(|(_, _, layer)| *layer)
            .max();
        points.max(patterns)
    }
}

/// The layers of a batch's mutations so far, per table.
pub(super) struct Ledger<'m> {
    tables: Vec<TableLedger<'m>>,
}

impl<'m> Ledger<'m> {
    pub(super) fn new(tables: &Tables<'_>) -> Ledger<'m> {
        Ledger {
            tables: (0..tables.tables.len())
                .map(|_| TableLedger::default())
                .collect(),
        }
    }

    /// The lowest layer `footprint` may go to: above every earlier mutation
    /// it must not overtake.
    pub(super) fn floor(&self, tables: &Tables<'_>, footprint: &Footprint<'m>) -> usize {
        let t = footprint.table;
        let same: &[Act] = match footprint.act {
            Act::Create if tables.key_len(t) == 0 => &[Act::Change, Act::Remove],
            Act::Remove => &[Act::Create, Act::Change],
            _ => &Act::ALL,
        };
        let mut highest = self.tables[t].highest(&footprint.key, same);
        if footprint.act == Act::Create {
            for &a in &tables.ancestors[t] {
                let n = tables.key_len(a).min(footprint.key.len());
                let hit = self.tables[a].highest(&footprint.key[..n], &[Act::Create, Act::Remove]);
                highest = highest.max(hit);
            }
        }
        if footprint.act != Act::Change {
            for &d in &tables.descendants[t] {
                let hit = self.tables[d].highest(&footprint.key, &[Act::Create]);
                highest = highest.max(hit);
            }
        }
        highest.map_or(0, |l| l + 1)
    }

    pub(super) fn record(&mut self, footprint: &Footprint<'m>, layer: usize) {
        self.tables[footprint.table].record(footprint, layer);
    }
}
