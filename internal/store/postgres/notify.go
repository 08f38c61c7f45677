package postgres

// changeChannel is the NOTIFY channel of the change triggers of migration
// 0001.
const changeChannel = "kmsd_changes"
