package datadir

// Default is the data dir when neither the config, a flag nor Env names
// one (relative to the working directory; DESIGN §6).
const Default = "tollgate-data"

// Env names the environment variable that overrides the default data dir
// for every binary.
const Env = "TOLLGATE_DATA_DIR"
