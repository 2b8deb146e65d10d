/** The product's own fragment (cutover_ledger, legacy_quarantine): kept as is across vox baseline bumps. */
export const OWN_FRAGMENT = { domain: "cutover_meta", file: "domains/99_cutover_meta.sql" };
