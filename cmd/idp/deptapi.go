package main

import (
	"github.com/entity-account/idp/login/deptapi"
	"github.com/entity-account/idp/login/manage"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage/postgres"
)

// departmentAPI is the department API of a node: machine tokens verified by
// the protocol storage, use cases over Postgres. sessions tells the other
// nodes of changed claims when it can (a store that publishes them).
// cfg carries the issuer's URLs for the served OpenAPI document.
func departmentAPI(cfg deptapi.Config, st *idpop.Storage, pg *postgres.Store, sessions any) *deptapi.API {
	notifier, _ := sessions.(manage.ClaimsNotifier)
	return deptapi.New(cfg, st, manage.NewDepartments(pg, notifier))
}
