"""The tickets area: tables, schemas, services, controllers and staff UI config."""
