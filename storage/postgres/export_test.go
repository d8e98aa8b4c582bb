package postgres

// MigrationFiles lets the external tests step through the migrations.
var MigrationFiles = migrationFiles

// ServiceAssignmentsSQL lets the plan test EXPLAIN the query as the store runs it.
const ServiceAssignmentsSQL = serviceAssignmentsSQL

// SignInEventsSQL lets the plan test EXPLAIN the history's page queries.
var SignInEventsSQL = signInEventsSQL

// The desk's searches, for the test of their plans.
var SearchEntitiesSQL, SearchStaffSQL = searchEntitiesSQL, searchStaffSQL
