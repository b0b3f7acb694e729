//! Lambda for `POST /checkins` (`evreg::handlers::routes::checkins_create`).

evreg::route_function!(checkins_create);
