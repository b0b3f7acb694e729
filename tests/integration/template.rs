//! `template.yaml` against the code: its HTTP API routes are `ROUTES`, its SNS filter
//! policies are `WORKERS`, `events/` has a sample request per route, and the resources it
//! declares can be created in an AWS emulator (and route messages the way the code expects).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_lambda_events::sqs::SqsEvent;
use aws_sdk_dynamodb::types::TimeToLiveStatus;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sqs::types::QueueAttributeName;
use evreg::domain::{Envelope, NewEvent, NewRegistration};
use evreg::handlers::routes::{match_route, ROUTES};
use evreg::handlers::schedules::SCHEDULES;
use evreg::handlers::workers::WORKERS;
use evreg_tests::provision::{self, Provisioned};
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;

fn events_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../events"))
}

#[test]
fn template_http_api_routes_are_the_route_table() {
    let expected: BTreeSet<(String, String, String)> = ROUTES
        .iter()
        .map(|r| {
            (
                r.method.as_str().to_owned(),
                r.path.to_owned(),
                r.binary.to_owned(),
            )
        })
        .collect();
    assert_eq!(expected.len(), ROUTES.len(), "ROUTES has duplicate rows");
    assert_eq!(provision::http_routes(), expected);
}

/// Every function the template deploys has its binary, and every binary is deployed.
#[test]
fn template_functions_are_the_lambda_binaries() {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../functions/src/bin"));
    let binaries: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("functions/src/bin")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    assert_eq!(provision::function_binaries(), binaries);
}

/// Each Lambda binary is the one line of its table that names its handler module — a
/// route's, a worker's or a schedule's — so it runs that row (its access rule, its needs)
/// with that handler and no other.
#[test]
fn every_binary_is_one_line_naming_its_own_handler() {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../functions/src/bin"));
    let routes = ROUTES
        .iter()
        .map(|spec| (spec.binary, "route_function", spec.binary.replace('-', "_")));
    let workers = WORKERS.iter().map(|spec| {
        let module = spec.binary.trim_start_matches("worker-").to_owned();
        (spec.binary, "worker_function", module)
    });
    let schedules = SCHEDULES.iter().map(|spec| {
        (
            spec.binary,
            "schedule_function",
            spec.binary.replace('-', "_"),
        )
    });
    let mut checked = 0;
    for (binary, table, module) in routes.chain(workers).chain(schedules) {
        let source = std::fs::read_to_string(dir.join(format!("{binary}.rs")))
            .unwrap_or_else(|e| panic!("{binary}.rs: {e}"));
        let code: Vec<&str> = source
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with("//"))
            .collect();
        assert_eq!(code, [format!("evreg::{table}!({module});")], "{binary}.rs");
        checked += 1;
    }
    assert_eq!(checked, provision::function_binaries().len());
}

/// `sam build` runs the Makefile's `build-<LogicalId>` for every function (`BuildMethod:
/// makefile`), and that target finds the bootstrap by turning the logical id back into the
/// binary's name (`EventsCreateFunction` → `events-create`): each function's logical id must
/// be its `BuildProperties.Binary` in CamelCase followed by `Function`.
#[test]
fn every_function_builds_through_the_makefile_under_its_binarys_name() {
    let template = provision::template();
    let resources = template
        .get("Resources")
        .and_then(serde_yaml_ng::Value::as_mapping)
        .expect("Resources");
    let mut functions = 0;
    for (id, resource) in resources {
        if resource.get("Type").and_then(|t| t.as_str()) != Some("AWS::Serverless::Function") {
            continue;
        }
        functions += 1;
        let id = id.as_str().expect("a logical id");
        let metadata = resource.get("Metadata").expect("Metadata");
        assert_eq!(
            metadata.get("BuildMethod").and_then(|m| m.as_str()),
            Some("makefile"),
            "{id}: BuildMethod"
        );
        let binary = metadata
            .get("BuildProperties")
            .and_then(|p| p.get("Binary"))
            .and_then(|b| b.as_str())
            .unwrap_or_else(|| panic!("{id}: no BuildProperties.Binary"));
        let camel: String = binary
            .split('-')
            .map(|word| {
                let mut chars = word.chars();
                chars
                    .next()
                    .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(id, format!("{camel}Function"), "the logical id of {binary}");
    }
    assert_eq!(functions, provision::function_binaries().len());
}

#[test]
fn template_filter_policies_are_the_worker_table() {
    let expected: BTreeMap<String, BTreeSet<String>> = WORKERS
        .iter()
        .map(|w| {
            let consumes = w
                .consumes
                .iter()
                .map(|kind| kind.as_str().to_owned())
                .collect();
            (w.binary.to_owned(), consumes)
        })
        .collect();
    assert_eq!(provision::subscriptions(), expected);
}

#[test]
fn every_route_has_a_sample_event_that_lambda_http_accepts() {
    for spec in ROUTES {
        let path = events_dir().join(format!("{}.json", spec.binary));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let json: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let route_key = format!("{} {}", spec.method, spec.path);
        assert_eq!(json["version"], "2.0", "{}", path.display());
        assert_eq!(json["routeKey"], route_key.as_str(), "{}", path.display());
        assert_eq!(
            json["requestContext"]["routeKey"],
            route_key.as_str(),
            "{}",
            path.display()
        );

        let request = lambda_http::request::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not an HTTP API v2 request: {e}", path.display()));
        assert!(
            matches!(
                request.request_context_ref(),
                Some(RequestContext::ApiGatewayV2(_))
            ),
            "{}: not an HTTP API v2 request context",
            path.display()
        );
        assert_eq!(request.method(), spec.method, "{}", path.display());
        let (route, params) = match_route(request.method(), request.uri().path())
            .unwrap_or_else(|e| panic!("{}: no route: {e:?}", path.display()));
        assert_eq!(route, spec.route, "{}", path.display());
        let path_parameters = request.path_parameters();
        for (name, value) in params {
            assert_eq!(
                path_parameters.first(&name),
                Some(value.as_str()),
                "{}: pathParameters.{name}",
                path.display()
            );
        }

        let body = json["body"].as_str().unwrap_or_default();
        match spec.binary {
            "events-create" => drop(serde_json::from_str::<NewEvent>(body).unwrap()),
            "registrations-create" => drop(serde_json::from_str::<NewRegistration>(body).unwrap()),
            _ => {}
        }
    }
}

/// Every sample batch `sqs-<worker>.json` holds envelopes tagged with their type, each of
/// a type its worker consumes; every worker but the ticket and email workers (whose events
/// name registrations that must exist) has one.
#[test]
fn the_sample_sqs_batches_hold_envelopes_their_worker_consumes() {
    let mut sampled = Vec::new();
    for spec in WORKERS {
        let name = format!("sqs-{}.json", spec.binary.trim_start_matches("worker-"));
        let Ok(text) = std::fs::read_to_string(events_dir().join(&name)) else {
            continue;
        };
        let batch: SqsEvent = serde_json::from_str(&text).unwrap();
        assert!(!batch.records.is_empty(), "{name}");
        for record in batch.records {
            let envelope: Envelope = serde_json::from_str(record.body.as_deref().unwrap()).unwrap();
            let attribute = record.message_attributes["type"].string_value.as_deref();
            assert_eq!(attribute, Some(envelope.kind().as_str()), "{name}");
            assert!(spec.consumes.contains(&envelope.kind()), "{name}");
        }
        sampled.push(spec.binary);
    }
    assert_eq!(
        sampled,
        ["worker-projection", "worker-payments", "worker-cdn"]
    );
}

/// Runs against the emulator `AWS_ENDPOINT_URL` names (moto server or LocalStack). Without
/// one it is skipped locally, but fails under CI, where the emulator is part of the run.
#[tokio::test]
async fn template_resources_provision_in_the_emulator_and_route_by_type() {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but AWS_ENDPOINT_URL is not: the emulator tests must run in CI"
        );
        eprintln!(
            "SKIPPED template_resources_provision_in_the_emulator_and_route_by_type: \
             AWS_ENDPOINT_URL is not set (start moto_server and point AWS_ENDPOINT_URL at it)"
        );
        return;
    }
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let prefix = format!("evreg-{}", uuid::Uuid::new_v4().simple());
    let provisioned = provision::provision(&sdk, &prefix)
        .await
        .unwrap_or_else(|e| panic!("provisioning {prefix}: {e}"));

    check_tables(&sdk, &provisioned).await;
    check_queues_and_subscription(&sdk, &provisioned).await;
    check_routing_by_type(&sdk, &provisioned).await;

    provisioned.teardown(&sdk).await.unwrap();
}

async fn check_tables(sdk: &aws_config::SdkConfig, provisioned: &Provisioned) {
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    assert_eq!(
        provisioned.write_table(),
        format!("{}-WriteTable", provisioned.prefix)
    );
    assert_eq!(
        provisioned.read_table(),
        format!("{}-ReadTable", provisioned.prefix)
    );
    for table in [provisioned.write_table(), provisioned.read_table()] {
        let described = dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .unwrap();
        let described = described.table().unwrap();
        let keys: Vec<_> = described
            .key_schema()
            .iter()
            .map(|k| k.attribute_name())
            .collect();
        assert_eq!(keys, ["pk", "sk"], "{table}");
        let gsi1 = described
            .global_secondary_indexes()
            .iter()
            .find(|i| i.index_name() == Some("gsi1"))
            .unwrap_or_else(|| panic!("{table} has no gsi1"));
        let keys: Vec<_> = gsi1
            .key_schema()
            .iter()
            .map(|k| k.attribute_name())
            .collect();
        assert_eq!(keys, ["gsi1pk", "gsi1sk"], "{table}");
    }

    let ttl = |table: &str| {
        let request = dynamodb.describe_time_to_live().table_name(table);
        async move {
            let output = request.send().await.unwrap();
            let description = output.time_to_live_description();
            (
                description.and_then(|d| d.time_to_live_status()).cloned(),
                description
                    .and_then(|d| d.attribute_name())
                    .map(str::to_owned),
            )
        }
    };
    let (status, attribute) = ttl(provisioned.write_table()).await;
    assert_eq!(status, Some(TimeToLiveStatus::Enabled));
    assert_eq!(attribute.as_deref(), Some("expires_at"));
    let (status, _) = ttl(provisioned.read_table()).await;
    assert_ne!(
        status,
        Some(TimeToLiveStatus::Enabled),
        "the read table has no TTL"
    );
}

async fn check_queues_and_subscription(sdk: &aws_config::SdkConfig, provisioned: &Provisioned) {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let sns = aws_sdk_sns::Client::new(sdk);
    let queue = provisioned.worker_queue("worker-projection").unwrap();
    assert_eq!(
        Some(&queue.to_owned()),
        provisioned.queues.get("ProjectionQueue")
    );

    let attributes = sqs
        .get_queue_attributes()
        .queue_url(queue)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    assert_eq!(attributes[&QueueAttributeName::VisibilityTimeout], "60");
    let redrive: serde_json::Value =
        serde_json::from_str(&attributes[&QueueAttributeName::RedrivePolicy]).unwrap();
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&provisioned.queues["ProjectionDLQ"])
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default()
        .remove(&QueueAttributeName::QueueArn)
        .unwrap();
    assert_eq!(redrive["deadLetterTargetArn"], dlq_arn.as_str());
    assert_eq!(
        redrive["maxReceiveCount"].to_string().trim_matches('"'),
        "5"
    );

    let subscription = &provisioned.subscriptions["ProjectionSubscription"];
    let attributes = sns
        .get_subscription_attributes()
        .subscription_arn(subscription)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    assert_eq!(attributes["TopicArn"], provisioned.topic_arn);
    assert_eq!(attributes["RawMessageDelivery"], "true");
    assert_eq!(attributes["FilterPolicyScope"], "MessageAttributes");
    let policy: serde_json::Value = serde_json::from_str(&attributes["FilterPolicy"]).unwrap();
    let filtered: BTreeSet<&str> = policy["type"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let projection = WORKERS
        .iter()
        .find(|w| w.binary == "worker-projection")
        .unwrap();
    assert_eq!(
        filtered,
        projection
            .consumes
            .iter()
            .map(|kind| kind.as_str())
            .collect()
    );
}

async fn check_routing_by_type(sdk: &aws_config::SdkConfig, provisioned: &Provisioned) {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let sns = aws_sdk_sns::Client::new(sdk);
    let queue = provisioned.worker_queue("worker-projection").unwrap();
    let publish = |event_type: &'static str, body: String| {
        let request = sns
            .publish()
            .topic_arn(&provisioned.topic_arn)
            .message(body)
            .message_attributes(
                "type",
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(event_type)
                    .build()
                    .unwrap(),
            );
        async move { request.send().await.unwrap() }
    };
    let ignored =
        serde_json::json!({"id": uuid::Uuid::new_v4(), "event": {"type": "UserSignedUp"}})
            .to_string();
    let wanted = serde_json::json!({
        "id": uuid::Uuid::new_v4(),
        "event": {"type": "RegistrationConfirmed", "data": {"note": "delivered raw"}},
    })
    .to_string();
    publish("UserSignedUp", ignored.clone()).await;
    publish("RegistrationConfirmed", wanted.clone()).await;

    // Standard queues do not keep order: collect until the wanted message arrives, then
    // keep polling briefly for anything the filter should have dropped.
    let mut received = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut grace_polls = 2;
    while grace_polls > 0 && Instant::now() < deadline {
        let output = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        for message in output.messages() {
            let attribute = message
                .message_attributes()
                .and_then(|a| a.get("type"))
                .and_then(|v| v.string_value())
                .map(str::to_owned);
            received.push((message.body().unwrap_or_default().to_owned(), attribute));
        }
        if received.iter().any(|(body, _)| *body == wanted) {
            grace_polls -= 1;
        }
    }
    assert!(
        received.contains(&(wanted.clone(), Some("RegistrationConfirmed".to_owned()))),
        "the RegistrationConfirmed message did not arrive raw with its type attribute: {received:?}"
    );
    assert!(
        received.iter().all(|(body, _)| *body != ignored),
        "the UserSignedUp message passed the filter policy: {received:?}"
    );
    assert_eq!(received.len(), 1, "{received:?}");
}

/// The stage's throttling is the route table's: `RouteSettings` names exactly the routes
/// of a stricter [`Throttle`] class, every setting refers to its class's parameters, and
/// those parameters default to the numbers the dev server applies ([`Throttle::limits`]).
#[test]
fn template_throttling_is_the_route_tables() {
    use evreg::handlers::routes::Throttle;
    use serde_yaml_ng::Value;
    let template = provision::template();
    let reference = |value: &Value| match value {
        Value::Tagged(tagged) if tagged.tag == "!Ref" => tagged.value.as_str().map(str::to_owned),
        _ => None,
    };
    let default_of = |parameter: &str| {
        template["Parameters"][parameter]["Default"]
            .as_u64()
            .unwrap_or_else(|| panic!("{parameter} has a numeric default"))
    };
    let prefix = |throttle: Throttle| match throttle {
        Throttle::Api => "Api",
        Throttle::Auth => "Auth",
        Throttle::Registration => "Registration",
    };
    let settings_of = |setting: &Value| -> Option<String> {
        let rate = reference(&setting["ThrottlingRateLimit"])?;
        let burst = reference(&setting["ThrottlingBurstLimit"])?;
        let class = rate.strip_suffix("ThrottleRate")?;
        (burst == format!("{class}ThrottleBurst")).then(|| class.to_owned())
    };
    let api = &template["Resources"]["HttpApi"]["Properties"];
    assert_eq!(
        settings_of(&api["DefaultRouteSettings"]).as_deref(),
        Some("Api")
    );
    let listed: BTreeMap<String, String> = api["RouteSettings"]
        .as_mapping()
        .expect("RouteSettings")
        .iter()
        .map(|(key, setting)| {
            let key = key.as_str().expect("a route key").to_owned();
            let class = settings_of(setting).unwrap_or_else(|| panic!("{key}: class refs"));
            (key, class)
        })
        .collect();
    let expected: BTreeMap<String, String> = ROUTES
        .iter()
        .filter(|spec| spec.throttle != Throttle::Api)
        .map(|spec| {
            (
                format!("{} {}", spec.method, spec.path),
                prefix(spec.throttle).to_owned(),
            )
        })
        .collect();
    assert_eq!(listed, expected);
    for throttle in [Throttle::Api, Throttle::Auth, Throttle::Registration] {
        let (rate, burst) = throttle.limits();
        let class = prefix(throttle);
        assert_eq!(default_of(&format!("{class}ThrottleRate")), u64::from(rate));
        assert_eq!(
            default_of(&format!("{class}ThrottleBurst")),
            u64::from(burst)
        );
    }
}

/// The dead-letter alarm watches every DLQ of the template and the lag alarm every
/// worker queue, so a new worker cannot go unwatched.
#[test]
fn the_alarms_watch_every_queue() {
    use serde_yaml_ng::Value;
    let template = provision::template();
    let resources = template["Resources"].as_mapping().expect("Resources");
    let queues: BTreeSet<String> = resources
        .iter()
        .filter(|(_, body)| body["Type"] == "AWS::SQS::Queue")
        .filter_map(|(id, _)| id.as_str().map(str::to_owned))
        .collect();
    let watched = |alarm: &str| -> BTreeSet<String> {
        template["Resources"][alarm]["Properties"]["Metrics"]
            .as_sequence()
            .expect("metric math")
            .iter()
            .filter_map(|metric| {
                let value = &metric["MetricStat"]["Metric"]["Dimensions"][0]["Value"];
                match value {
                    Value::Tagged(tagged) if tagged.tag == "!GetAtt" => tagged
                        .value
                        .as_str()
                        .and_then(|target| target.strip_suffix(".QueueName"))
                        .map(str::to_owned),
                    _ => None,
                }
            })
            .collect()
    };
    let (dead, live): (BTreeSet<String>, BTreeSet<String>) =
        queues.into_iter().partition(|id| id.ends_with("DLQ"));
    assert!(!dead.is_empty() && !live.is_empty());
    assert_eq!(watched("DeadLetterAlarm"), dead);
    assert_eq!(watched("WorkerLagAlarm"), live);
}

/// Every CloudFront behaviour that passes writes on forwards every viewer header but Host
/// (the managed AllViewerExceptHostHeader origin request policy): a cache behaviour without
/// one forwards only its cache key's headers, and a POST would lose its Content-Type and
/// Idempotency-Key on the way.
#[test]
fn every_cdn_behaviour_that_writes_forwards_the_request_headers() {
    const ALL_VIEWER_EXCEPT_HOST: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
    let template = provision::template();
    let config = &template["Resources"]["ApiDistribution"]["Properties"]["DistributionConfig"];
    let mut behaviours = vec![&config["DefaultCacheBehavior"]];
    behaviours.extend(config["CacheBehaviors"].as_sequence().expect("behaviours"));
    for behaviour in behaviours {
        let writes = behaviour["AllowedMethods"]
            .as_sequence()
            .is_some_and(|methods| methods.iter().any(|m| m == "POST"));
        if writes {
            assert_eq!(
                behaviour["OriginRequestPolicyId"].as_str(),
                Some(ALL_VIEWER_EXCEPT_HOST),
                "{:?}",
                behaviour["PathPattern"]
            );
        }
    }
}

/// The door app's page and files go through CloudFront like the event pages: cached by
/// the public policy (their answers carry Cache-Control and an ETag), read-only.
#[test]
fn the_cdn_caches_the_door_app_like_the_pages() {
    let template = provision::template();
    let config = &template["Resources"]["ApiDistribution"]["Properties"]["DistributionConfig"];
    let behaviours = config["CacheBehaviors"].as_sequence().expect("behaviours");
    let find = |pattern: &str| {
        behaviours
            .iter()
            .find(|b| b["PathPattern"].as_str() == Some(pattern))
            .unwrap_or_else(|| panic!("a {pattern} behaviour"))
    };
    let (door, pages) = (find("/door*"), find("/e/*"));
    assert_eq!(door["CachePolicyId"], pages["CachePolicyId"]);
    assert_eq!(door["CachedMethods"], pages["CachedMethods"]);
    assert_eq!(door["ViewerProtocolPolicy"], pages["ViewerProtocolPolicy"]);
    let methods: Vec<&str> = door["AllowedMethods"]
        .as_sequence()
        .expect("methods")
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    assert_eq!(methods, ["GET", "HEAD", "OPTIONS"]);
    assert_eq!(door["Compress"].as_bool(), Some(true));
    for path in ["/door", "/door/app.js"] {
        assert!(match_route(&http::Method::GET, path).is_ok(), "{path}");
    }
}
