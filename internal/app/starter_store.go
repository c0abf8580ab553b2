package app

// storeCommands are the commands that read and write the version store.
var storeCommands []command
