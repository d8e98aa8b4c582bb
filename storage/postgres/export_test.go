package postgres

// MigrationFiles lets the external tests step through the migrations.
var MigrationFiles = migrationFiles
