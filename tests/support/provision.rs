//! Creates the stateful resources of `template.yaml` (DynamoDB tables, SNS topics, SQS
//! queues, SNS subscriptions, S3 buckets) in the AWS emulator an `SdkConfig` points at, read
//! straight from the template, so the local resources cannot drift from what `sam deploy`
//! creates.
//!
//! Physical names are `{prefix}-{LogicalId}` (lowercased for buckets), so parallel test
//! runs never collide. Resource types with no local counterpart (functions, IAM, alarms, the
//! HTTP API, queue policies) are skipped, and so are CloudFront distributions on an
//! emulator without CloudFront ([`Capability::CloudFront`]). A property this module does not know fails loudly
//! instead of being dropped, so a template change that would make the emulator differ from
//! AWS is noticed here.
//!
//! The same parsing serves the template consistency tests: [`http_routes`] and
//! [`subscriptions`] read what the template wires, to compare with `ROUTES` and `WORKERS`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::error::Error;
use std::time::Duration;

use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ProvisionedThroughput, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_yaml_ng::{Mapping, Value};

use crate::emulator::{Capability, Emulator};

pub use evreg::ports::BoxError;
type Result<T, E = BoxError> = std::result::Result<T, E>;

/// `template.yaml` at the workspace root.
pub const TEMPLATE_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");

const TABLE: &str = "AWS::DynamoDB::Table";
const TOPIC: &str = "AWS::SNS::Topic";
const QUEUE: &str = "AWS::SQS::Queue";
const SUBSCRIPTION: &str = "AWS::SNS::Subscription";
const FUNCTION: &str = "AWS::Serverless::Function";
const BUCKET: &str = "AWS::S3::Bucket";
const DISTRIBUTION: &str = "AWS::CloudFront::Distribution";

/// How long a created table may take to become ACTIVE (emulators: at once).
const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(60);

/// What [`provision`] created, by the template's logical ids.
#[derive(Debug, Clone, Default)]
pub struct Provisioned {
    pub prefix: String,
    /// Logical id → table name.
    pub tables: BTreeMap<String, String>,
    /// The ARN of the template's (single) SNS topic.
    pub topic_arn: String,
    /// Logical id → queue URL (worker queues and dead-letter queues).
    pub queues: BTreeMap<String, String>,
    /// Worker binary (`BuildProperties.Binary`) → URL of the queue its SQS event reads.
    pub worker_queues: BTreeMap<String, String>,
    /// Logical id → subscription ARN.
    pub subscriptions: BTreeMap<String, String>,
    /// Logical id → bucket name.
    pub buckets: BTreeMap<String, String>,
    /// Logical id → CloudFront distribution id.
    pub distributions: BTreeMap<String, String>,
}

impl Provisioned {
    pub fn table(&self, logical_id: &str) -> &str {
        self.tables.get(logical_id).map_or("", String::as_str)
    }

    /// The `WriteTable` name (empty if the template has none).
    pub fn write_table(&self) -> &str {
        self.table("WriteTable")
    }

    /// The `ReadTable` name (empty if the template has none).
    pub fn read_table(&self) -> &str {
        self.table("ReadTable")
    }

    /// The `TicketsBucket` name (empty if the template has none).
    pub fn tickets_bucket(&self) -> &str {
        self.buckets.get("TicketsBucket").map_or("", String::as_str)
    }

    /// The `ApiDistribution` id; `None` where the emulator has no CloudFront.
    pub fn api_distribution(&self) -> Option<&str> {
        self.distributions
            .get("ApiDistribution")
            .map(String::as_str)
    }

    /// The queue URL the given worker binary consumes, if the template has one.
    pub fn worker_queue(&self, binary: &str) -> Option<&str> {
        self.worker_queues.get(binary).map(String::as_str)
    }

    /// Deletes what [`provision`] created (best effort: for long-lived emulators such as
    /// LocalStack; a fresh moto server needs no cleanup). Returns the first error, if any,
    /// after trying everything.
    pub async fn teardown(&self, sdk: &aws_config::SdkConfig) -> Result<()> {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        let sns = aws_sdk_sns::Client::new(sdk);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let mut errors: Vec<String> = Vec::new();
        for (id, arn) in &self.subscriptions {
            if let Err(e) = sns.unsubscribe().subscription_arn(arn).send().await {
                errors.push(format!("Unsubscribe {id}: {}", sdk_error(&e)));
            }
        }
        if !self.topic_arn.is_empty() {
            if let Err(e) = sns.delete_topic().topic_arn(&self.topic_arn).send().await {
                errors.push(format!("DeleteTopic {}: {}", self.topic_arn, sdk_error(&e)));
            }
        }
        for url in self.queues.values() {
            if let Err(e) = sqs.delete_queue().queue_url(url).send().await {
                errors.push(format!("DeleteQueue {url}: {}", sdk_error(&e)));
            }
        }
        for name in self.tables.values() {
            if let Err(e) = dynamodb.delete_table().table_name(name).send().await {
                errors.push(format!("DeleteTable {name}: {}", sdk_error(&e)));
            }
        }
        // Buckets stay: moto keeps deleted objects in the model list its
        // `/moto-api/data.json` serializes (where the tests read sent mail), and a
        // deleted bucket's object makes that endpoint fail. The emulator dies with the run.
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; ").into())
        }
    }
}

// ------------------------------------------------------------------ reading the template

/// Parses `template.yaml`.
pub fn load_template() -> Result<Value> {
    let text = std::fs::read_to_string(TEMPLATE_PATH)
        .map_err(|e| format!("reading {TEMPLATE_PATH}: {e}"))?;
    serde_yaml_ng::from_str(&text).map_err(|e| format!("parsing {TEMPLATE_PATH}: {e}").into())
}

/// `template.yaml`, parsed (a test fixture: panics with the reason if it cannot be read).
pub fn template() -> Value {
    load_template().unwrap_or_else(|e| panic!("{e}"))
}

/// `(METHOD, path, binary)` for every `HttpApi` event of every function in the template.
pub fn http_routes() -> BTreeSet<(String, String, String)> {
    routes_of(&template()).unwrap_or_else(|e| panic!("{TEMPLATE_PATH}: {e}"))
}

/// Worker binary → the event types its queue's SNS subscription lets through
/// (`FilterPolicy.type`), for every function with an SQS event.
pub fn subscriptions() -> BTreeMap<String, BTreeSet<String>> {
    subscriptions_of(&template()).unwrap_or_else(|e| panic!("{TEMPLATE_PATH}: {e}"))
}

/// `BuildProperties.Binary` of every function in the template.
pub fn function_binaries() -> BTreeSet<String> {
    resources(&template())
        .and_then(|resources| {
            resources
                .iter()
                .filter(|r| r.kind == FUNCTION)
                .map(|f| f.binary().map(str::to_owned))
                .collect()
        })
        .unwrap_or_else(|e| panic!("{TEMPLATE_PATH}: {e}"))
}

/// The environment `template.yaml` gives the function whose binary is `binary`: the
/// `Globals.Function.Environment.Variables` with the function's own `Environment.Variables`
/// on top, `!Ref`s resolved to what [`provision`] created (tables, topic, buckets,
/// distributions, queues) or to `parameters` (the stack parameters: `Stage`, `PublicUrl`,
/// `MailFrom`), and `!Sub` strings with `${Parameter}` / `${LogicalId}` replaced likewise.
pub fn function_environment(
    provisioned: &Provisioned,
    binary: &str,
    parameters: &BTreeMap<&str, String>,
) -> Result<BTreeMap<String, String>> {
    let template = load_template()?;
    let resources = resources(&template)?;
    let resolve = |id: &str| -> Option<String> {
        if let Some(value) = parameters.get(id) {
            return Some(value.clone());
        }
        let kind = resources.iter().find(|r| r.id == id)?.kind;
        match kind {
            TABLE => provisioned.tables.get(id).cloned(),
            TOPIC => Some(provisioned.topic_arn.clone()),
            BUCKET => provisioned.buckets.get(id).cloned(),
            DISTRIBUTION => provisioned.distributions.get(id).cloned(),
            QUEUE => provisioned.queues.get(id).cloned(),
            _ => None,
        }
    };
    let value_of = |name: &str, value: &Value| -> Result<String> {
        match value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Tagged(tagged) if tagged.tag == "Sub" => {
                let mut text = tagged
                    .value
                    .as_str()
                    .ok_or_else(|| format!("{name}: only the one-string !Sub is supported"))?
                    .to_owned();
                while let Some(start) = text.find("${") {
                    let end = start
                        + text[start..]
                            .find('}')
                            .ok_or_else(|| format!("{name}: unclosed ${{ in !Sub"))?;
                    let id = &text[start + 2..end];
                    let resolved =
                        resolve(id).ok_or_else(|| format!("{name}: cannot resolve ${{{id}}}"))?;
                    text.replace_range(start..=end, &resolved);
                }
                Ok(text)
            }
            other => match Intrinsic::of(other) {
                Some(Intrinsic::Ref(id)) => {
                    resolve(id).ok_or_else(|| format!("{name}: cannot resolve !Ref {id}").into())
                }
                _ => Err(format!("{name}: {other:?} is not supported locally").into()),
            },
        }
    };
    let variables = |node: Option<&Value>| -> Vec<(String, Value)> {
        node.and_then(|n| n.get("Environment"))
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_mapping)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.clone())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let globals = template.get("Globals").and_then(|g| g.get("Function"));
    let function = resources
        .iter()
        .filter(|r| r.kind == FUNCTION)
        .find(|f| f.binary().ok() == Some(binary))
        .ok_or_else(|| format!("no function with binary {binary}"))?;
    let mut environment = BTreeMap::new();
    for (name, value) in variables(globals)
        .into_iter()
        .chain(variables(function.body.get("Properties")))
    {
        let resolved = value_of(&name, &value)?;
        environment.insert(name, resolved);
    }
    Ok(environment)
}

/// One resource of the template.
struct Resource<'a> {
    id: &'a str,
    kind: &'a str,
    body: &'a Value,
}

impl<'a> Resource<'a> {
    fn properties(&self) -> Option<&'a Mapping> {
        self.body.get("Properties").and_then(Value::as_mapping)
    }

    fn property(&self, name: &str) -> Option<&'a Value> {
        self.body.get("Properties").and_then(|p| p.get(name))
    }

    fn required(&self, name: &str) -> Result<&'a Value> {
        self.property(name)
            .ok_or_else(|| format!("{} ({}): missing property {name}", self.id, self.kind).into())
    }

    fn required_str(&self, name: &str) -> Result<&'a str> {
        self.required(name)?
            .as_str()
            .ok_or_else(|| format!("{}: property {name} is not a string", self.id).into())
    }

    /// Fails on a property outside `known`.
    fn check_properties(&self, known: &[&str]) -> Result<()> {
        for key in self.properties().into_iter().flat_map(Mapping::keys) {
            let key = key.as_str().unwrap_or_default();
            if !known.contains(&key) {
                return Err(format!(
                    "{} ({}): property {key} is not supported by tests/support/provision.rs; \
                     teach it there so the emulator keeps matching the template",
                    self.id, self.kind
                )
                .into());
            }
        }
        Ok(())
    }

    /// `Metadata.BuildProperties.Binary` of a function.
    fn binary(&self) -> Result<&'a str> {
        self.body
            .get("Metadata")
            .and_then(|m| m.get("BuildProperties"))
            .and_then(|b| b.get("Binary"))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{}: no Metadata.BuildProperties.Binary", self.id).into())
    }

    /// `(event name, Type, Properties)` of a function's events.
    fn events(&self) -> Result<Vec<(&'a str, &'a str, &'a Value)>> {
        let Some(events) = self.property("Events") else {
            return Ok(Vec::new());
        };
        let events = events
            .as_mapping()
            .ok_or_else(|| format!("{}: Events is not a mapping", self.id))?;
        events
            .iter()
            .map(|(name, event)| {
                let name = name.as_str().unwrap_or_default();
                let kind = event
                    .get("Type")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{}: event {name} has no Type", self.id))?;
                let properties = event
                    .get("Properties")
                    .ok_or_else(|| format!("{}: event {name} has no Properties", self.id))?;
                Ok((name, kind, properties))
            })
            .collect()
    }

    /// The logical id of the queue behind each SQS event (`Queue: !GetAtt X.Arn`).
    fn sqs_event_queues(&self) -> Result<Vec<&'a str>> {
        self.events()?
            .into_iter()
            .filter(|(_, kind, _)| *kind == "SQS")
            .map(|(name, _, properties)| {
                let queue = properties
                    .get("Queue")
                    .ok_or_else(|| format!("{}: SQS event {name} has no Queue", self.id))?;
                match Intrinsic::of(queue) {
                    Some(Intrinsic::GetAtt(id, "Arn")) => Ok(id),
                    _ => Err(format!(
                        "{}: SQS event {name}: Queue must be `!GetAtt <Queue>.Arn` of a queue \
                         in this template",
                        self.id
                    )
                    .into()),
                }
            })
            .collect()
    }
}

fn resources(template: &Value) -> Result<Vec<Resource<'_>>> {
    let resources = template
        .get("Resources")
        .and_then(Value::as_mapping)
        .ok_or("the template has no Resources mapping")?;
    resources
        .iter()
        .map(|(id, body)| {
            let id = id
                .as_str()
                .ok_or("a resource's logical id is not a string")?;
            let kind = body
                .get("Type")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{id}: no Type"))?;
            Ok(Resource { id, kind, body })
        })
        .collect()
}

fn routes_of(template: &Value) -> Result<BTreeSet<(String, String, String)>> {
    let mut routes = BTreeSet::new();
    for function in resources(template)?.iter().filter(|r| r.kind == FUNCTION) {
        for (name, kind, properties) in function.events()? {
            if kind != "HttpApi" {
                continue;
            }
            let field = |key: &str| {
                properties
                    .get(key)
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{}: HttpApi event {name} has no {key}", function.id))
            };
            let route = (
                field("Method")?.to_ascii_uppercase(),
                field("Path")?.to_owned(),
                function.binary()?.to_owned(),
            );
            routes.insert(route);
        }
    }
    Ok(routes)
}

fn subscriptions_of(template: &Value) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let resources = resources(template)?;
    let mut workers = BTreeMap::new();
    for function in resources.iter().filter(|r| r.kind == FUNCTION) {
        let queues = function.sqs_event_queues()?;
        if queues.is_empty() {
            continue;
        }
        let mut types = BTreeSet::new();
        for queue in queues {
            for subscription in resources.iter().filter(|r| r.kind == SUBSCRIPTION) {
                let endpoint = subscription.required("Endpoint")?;
                if Intrinsic::of(endpoint) != Some(Intrinsic::GetAtt(queue, "Arn")) {
                    continue;
                }
                types.extend(filter_types(subscription)?);
            }
        }
        workers.insert(function.binary()?.to_owned(), types);
    }
    Ok(workers)
}

/// The exact-match strings of a subscription's `FilterPolicy.type`.
fn filter_types(subscription: &Resource<'_>) -> Result<Vec<String>> {
    let id = subscription.id;
    let policy = match subscription.required("FilterPolicy")? {
        // CloudFormation takes the policy as an object or as a JSON string.
        Value::String(json) => serde_json::from_str(json)
            .map_err(|e| format!("{id}: FilterPolicy is not JSON: {e}"))?,
        other => to_json(other, &|_| None).map_err(|e| format!("{id}: FilterPolicy: {e}"))?,
    };
    let types = policy
        .get("type")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| format!("{id}: FilterPolicy has no `type` list"))?;
    types
        .iter()
        .map(|t| {
            t.as_str().map(str::to_owned).ok_or_else(|| {
                format!("{id}: FilterPolicy.type holds {t}, not an exact event type").into()
            })
        })
        .collect()
}

// ------------------------------------------------------------------ intrinsic functions

/// The intrinsic functions the provisioner resolves, in short (`!Ref X`, `!GetAtt X.Arn`)
/// or long (`{Ref: X}`, `{Fn::GetAtt: [X, Arn]}`) form.
#[derive(Debug, PartialEq, Eq)]
enum Intrinsic<'a> {
    Ref(&'a str),
    GetAtt(&'a str, &'a str),
}

impl<'a> Intrinsic<'a> {
    fn of(value: &'a Value) -> Option<Self> {
        let (function, argument) = match value {
            Value::Tagged(tagged) => {
                if tagged.tag == "Ref" {
                    ("Ref", &tagged.value)
                } else if tagged.tag == "GetAtt" {
                    ("Fn::GetAtt", &tagged.value)
                } else {
                    return None;
                }
            }
            Value::Mapping(mapping) if mapping.len() == 1 => {
                let (key, argument) = mapping.iter().next()?;
                (key.as_str()?, argument)
            }
            _ => return None,
        };
        match (function, argument) {
            ("Ref", Value::String(id)) => Some(Self::Ref(id)),
            ("Fn::GetAtt", Value::String(dotted)) => {
                let (id, attribute) = dotted.split_once('.')?;
                Some(Self::GetAtt(id, attribute))
            }
            ("Fn::GetAtt", Value::Sequence(parts)) => match parts.as_slice() {
                [id, attribute] => Some(Self::GetAtt(id.as_str()?, attribute.as_str()?)),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Converts a template value to JSON, resolving `Ref`/`GetAtt` through `resolve`; any other
/// tag (`!Sub`, `!Join`, ...) or an unresolvable reference is an error.
fn to_json(
    value: &Value,
    resolve: &dyn Fn(&Intrinsic<'_>) -> Option<String>,
) -> Result<serde_json::Value, String> {
    if let Some(intrinsic) = Intrinsic::of(value) {
        return resolve(&intrinsic)
            .map(serde_json::Value::String)
            .ok_or_else(|| format!("cannot resolve {intrinsic:?} locally"));
    }
    Ok(match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into()
            } else if let Some(u) = n.as_u64() {
                u.into()
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(serde_json::Value::Number)
                    .ok_or_else(|| format!("{n} is not a JSON number"))?
            }
        }
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Sequence(items) => items
            .iter()
            .map(|item| to_json(item, resolve))
            .collect::<Result<_, _>>()?,
        Value::Mapping(mapping) => mapping
            .iter()
            .map(|(k, v)| {
                let k = k.as_str().ok_or_else(|| format!("non-string key {k:?}"))?;
                Ok((k.to_owned(), to_json(v, resolve)?))
            })
            .collect::<Result<serde_json::Map<_, _>, String>>()?
            .into(),
        Value::Tagged(tagged) => {
            return Err(format!("intrinsic {} is not supported locally", tagged.tag))
        }
    })
}

/// A scalar property as the string an AWS attribute map wants (`true`, `60`, ...).
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The physical identity of what has been created so far, for resolving references.
#[derive(Default)]
struct Physical {
    /// Logical id → what `!Ref` returns (table name, topic ARN, queue URL).
    refs: HashMap<String, String>,
    /// (logical id, attribute) → what `!GetAtt` returns.
    attributes: HashMap<(String, String), String>,
}

impl Physical {
    fn resolve(&self, intrinsic: &Intrinsic<'_>) -> Option<String> {
        match intrinsic {
            Intrinsic::Ref(id) => self.refs.get(*id).cloned(),
            Intrinsic::GetAtt(id, attribute) => self
                .attributes
                .get(&((*id).to_owned(), (*attribute).to_owned()))
                .cloned(),
        }
    }

    /// A property that is a reference or a literal string.
    fn string(&self, resource: &Resource<'_>, name: &str) -> Result<String> {
        let value = resource.required(name)?;
        match to_json(value, &|i| self.resolve(i)) {
            Ok(serde_json::Value::String(s)) => Ok(s),
            Ok(other) => Err(format!("{}: {name} is {other}, not a string", resource.id).into()),
            Err(e) => Err(format!("{}: {name}: {e}", resource.id).into()),
        }
    }

    fn json_string(&self, resource: &Resource<'_>, name: &str, value: &Value) -> Result<String> {
        let json = match value {
            Value::String(json) => return Ok(json.clone()),
            other => to_json(other, &|i| self.resolve(i))
                .map_err(|e| format!("{}: {name}: {e}", resource.id))?,
        };
        Ok(json.to_string())
    }
}

// ------------------------------------------------------------------ provisioning

fn sdk_error(error: &(dyn Error + 'static)) -> String {
    aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string()
}

/// Creates the template's tables, topics, queues, subscriptions, buckets and (where emulated)
/// distributions in the emulator `sdk` points at (`AWS_ENDPOINT_URL`), named
/// `{prefix}-{LogicalId}`.
pub async fn provision(sdk: &aws_config::SdkConfig, prefix: &str) -> Result<Provisioned> {
    let template = load_template()?;
    let resources = resources(&template)?;
    let name = |id: &str| format!("{prefix}-{id}");
    let mut physical = Physical::default();
    let mut out = Provisioned {
        prefix: prefix.to_owned(),
        ..Provisioned::default()
    };

    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    for table in resources.iter().filter(|r| r.kind == TABLE) {
        let table_name = name(table.id);
        create_table(&dynamodb, table, &table_name).await?;
        physical
            .refs
            .insert(table.id.to_owned(), table_name.clone());
        out.tables.insert(table.id.to_owned(), table_name);
    }

    let sns = aws_sdk_sns::Client::new(sdk);
    let mut topics = Vec::new();
    for topic in resources.iter().filter(|r| r.kind == TOPIC) {
        topic.check_properties(&["TopicName", "DisplayName", "KmsMasterKeyId", "Tags"])?;
        let topic_name = name(topic.id);
        let arn = sns
            .create_topic()
            .name(&topic_name)
            .send()
            .await
            .map_err(|e| format!("CreateTopic {topic_name}: {}", sdk_error(&e)))?
            .topic_arn
            .ok_or_else(|| format!("CreateTopic {topic_name}: no TopicArn in the response"))?;
        let id = topic.id.to_owned();
        physical.refs.insert(id.clone(), arn.clone());
        physical
            .attributes
            .insert((id.clone(), "TopicArn".into()), arn.clone());
        physical
            .attributes
            .insert((id.clone(), "TopicName".into()), topic_name);
        topics.push(arn);
    }
    match topics.as_slice() {
        [] => {}
        [arn] => out.topic_arn.clone_from(arn),
        _ => return Err("the template has more than one SNS topic; Provisioned has one".into()),
    }

    // Queues: create all, then set their attributes, so a redrive policy can name any
    // queue's ARN whatever the template's order.
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let queues: Vec<_> = resources.iter().filter(|r| r.kind == QUEUE).collect();
    for queue in &queues {
        queue.check_properties(&[
            "QueueName",
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "MaximumMessageSize",
            "ReceiveMessageWaitTimeSeconds",
            "RedrivePolicy",
            "RedriveAllowPolicy",
            "SqsManagedSseEnabled",
            "KmsMasterKeyId",
            "KmsDataKeyReusePeriodSeconds",
            "Tags",
        ])?;
        let queue_name = name(queue.id);
        let url = sqs
            .create_queue()
            .queue_name(&queue_name)
            .send()
            .await
            .map_err(|e| format!("CreateQueue {queue_name}: {}", sdk_error(&e)))?
            .queue_url
            .ok_or_else(|| format!("CreateQueue {queue_name}: no QueueUrl in the response"))?;
        let arn = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| format!("GetQueueAttributes {queue_name}: {}", sdk_error(&e)))?
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .ok_or_else(|| format!("GetQueueAttributes {queue_name}: no QueueArn"))?;
        let id = queue.id.to_owned();
        physical.refs.insert(id.clone(), url.clone());
        physical.attributes.insert((id.clone(), "Arn".into()), arn);
        physical
            .attributes
            .insert((id.clone(), "QueueUrl".into()), url.clone());
        physical
            .attributes
            .insert((id.clone(), "QueueName".into()), queue_name);
        out.queues.insert(id, url);
    }
    for queue in &queues {
        let mut attributes = HashMap::new();
        for property in [
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "MaximumMessageSize",
            "ReceiveMessageWaitTimeSeconds",
        ] {
            if let Some(value) = queue.property(property) {
                let value = scalar(value)
                    .ok_or_else(|| format!("{}: {property} is not a scalar", queue.id))?;
                attributes.insert(QueueAttributeName::from(property), value);
            }
        }
        for property in ["RedrivePolicy", "RedriveAllowPolicy"] {
            if let Some(value) = queue.property(property) {
                let json = physical.json_string(queue, property, value)?;
                attributes.insert(QueueAttributeName::from(property), json);
            }
        }
        if attributes.is_empty() {
            continue;
        }
        let url = out.queues.get(queue.id).map_or("", String::as_str);
        sqs.set_queue_attributes()
            .queue_url(url)
            .set_attributes(Some(attributes))
            .send()
            .await
            .map_err(|e| format!("SetQueueAttributes {}: {}", queue.id, sdk_error(&e)))?;
    }

    for subscription in resources.iter().filter(|r| r.kind == SUBSCRIPTION) {
        subscription.check_properties(&[
            "Protocol",
            "TopicArn",
            "Endpoint",
            "RawMessageDelivery",
            "FilterPolicy",
            "FilterPolicyScope",
            "RedrivePolicy",
            "DeliveryPolicy",
            "Region",
        ])?;
        let id = subscription.id;
        let topic_arn = physical.string(subscription, "TopicArn")?;
        let endpoint = physical.string(subscription, "Endpoint")?;
        let protocol = subscription.required_str("Protocol")?;
        let mut request = sns
            .subscribe()
            .topic_arn(&topic_arn)
            .protocol(protocol)
            .endpoint(&endpoint)
            .return_subscription_arn(true);
        for property in ["RawMessageDelivery", "FilterPolicyScope"] {
            if let Some(value) = subscription.property(property) {
                let value =
                    scalar(value).ok_or_else(|| format!("{id}: {property} is not a scalar"))?;
                request = request.attributes(property, value);
            }
        }
        for property in ["FilterPolicy", "RedrivePolicy", "DeliveryPolicy"] {
            if let Some(value) = subscription.property(property) {
                request = request.attributes(
                    property,
                    physical.json_string(subscription, property, value)?,
                );
            }
        }
        let arn = request
            .send()
            .await
            .map_err(|e| {
                format!(
                    "Subscribe {id} ({endpoint} to {topic_arn}): {}",
                    sdk_error(&e)
                )
            })?
            .subscription_arn
            .ok_or_else(|| format!("Subscribe {id}: no SubscriptionArn in the response"))?;
        out.subscriptions.insert(id.to_owned(), arn);
    }

    let s3 = evreg::adapters::aws::s3_client(sdk);
    for bucket in resources.iter().filter(|r| r.kind == BUCKET) {
        let bucket_name = bucket_name(prefix, bucket.id);
        create_bucket(&s3, bucket, &bucket_name).await?;
        let id = bucket.id.to_owned();
        physical.refs.insert(id.clone(), bucket_name.clone());
        physical.attributes.insert(
            (id.clone(), "Arn".into()),
            format!("arn:aws:s3:::{bucket_name}"),
        );
        out.buckets.insert(id, bucket_name);
    }

    let cloudfront = aws_sdk_cloudfront::Client::new(sdk);
    let distributions = resources.iter().filter(|r| r.kind == DISTRIBUTION);
    let emulated = Emulator::current().lacks(Capability::CloudFront).is_none();
    for distribution in distributions.filter(|_| emulated) {
        let id = create_distribution(&cloudfront, &name(distribution.id)).await?;
        physical.refs.insert(distribution.id.to_owned(), id.clone());
        out.distributions.insert(distribution.id.to_owned(), id);
    }

    for function in resources.iter().filter(|r| r.kind == FUNCTION) {
        let queues = function.sqs_event_queues()?;
        let queue = match queues.as_slice() {
            [] => continue,
            [queue] => *queue,
            _ => return Err(format!("{}: more than one SQS event", function.id).into()),
        };
        let url = out
            .queues
            .get(queue)
            .ok_or_else(|| format!("{}: SQS event on {queue}, not a queue here", function.id))?;
        out.worker_queues
            .insert(function.binary()?.to_owned(), url.clone());
    }

    Ok(out)
}

async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    table: &Resource<'_>,
    table_name: &str,
) -> Result<()> {
    table.check_properties(&[
        "TableName",
        "BillingMode",
        "AttributeDefinitions",
        "KeySchema",
        "GlobalSecondaryIndexes",
        "ProvisionedThroughput",
        "TimeToLiveSpecification",
        // No local effect:
        "PointInTimeRecoverySpecification",
        "SSESpecification",
        "DeletionProtectionEnabled",
        "ContributorInsightsSpecification",
        "TableClass",
        "Tags",
    ])?;
    let id = table.id;
    let context = |what: &str| format!("{id}: {what}");

    let attribute_definitions = sequence(table.required("AttributeDefinitions")?)
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(str_field(a, "AttributeName").map_err(|e| context(&e))?)
                .attribute_type(ScalarAttributeType::from(
                    str_field(a, "AttributeType").map_err(|e| context(&e))?,
                ))
                .build()
                .map_err(|e| context(&e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let billing_mode = table
        .property("BillingMode")
        .and_then(Value::as_str)
        .unwrap_or("PROVISIONED");
    let mut request = client
        .create_table()
        .table_name(table_name)
        .set_attribute_definitions(Some(attribute_definitions))
        .set_key_schema(Some(
            key_schema(table.required("KeySchema")?).map_err(|e| context(&e))?,
        ))
        .billing_mode(BillingMode::from(billing_mode));
    if let Some(throughput) = table.property("ProvisionedThroughput") {
        request = request
            .provisioned_throughput(provisioned_throughput(throughput).map_err(|e| context(&e))?);
    }
    if let Some(indexes) = table.property("GlobalSecondaryIndexes") {
        for index in sequence(indexes) {
            request = request.global_secondary_indexes(
                global_secondary_index(index)
                    .map_err(|e| context(&format!("GlobalSecondaryIndexes: {e}")))?,
            );
        }
    }
    request
        .send()
        .await
        .map_err(|e| format!("CreateTable {table_name}: {}", sdk_error(&e)))?;
    client
        .wait_until_table_exists()
        .table_name(table_name)
        .wait(TABLE_ACTIVE_TIMEOUT)
        .await
        .map_err(|e| format!("waiting for table {table_name}: {}", sdk_error(&e)))?;

    if let Some(ttl) = table.property("TimeToLiveSpecification") {
        let enabled = ttl.get("Enabled").and_then(Value::as_bool).unwrap_or(false);
        if enabled {
            let specification = TimeToLiveSpecification::builder()
                .attribute_name(str_field(ttl, "AttributeName").map_err(|e| context(&e))?)
                .enabled(true)
                .build()
                .map_err(|e| context(&e.to_string()))?;
            client
                .update_time_to_live()
                .table_name(table_name)
                .time_to_live_specification(specification)
                .send()
                .await
                .map_err(|e| format!("UpdateTimeToLive {table_name}: {}", sdk_error(&e)))?;
        }
    }
    Ok(())
}

/// `{prefix}-{logicalid}` within S3's naming rules: lowercase letters, digits and hyphens,
/// at most 63 characters, starting and ending with a letter or digit.
fn bucket_name(prefix: &str, logical_id: &str) -> String {
    let name: String = format!("{prefix}-{logical_id}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    name.trim_matches('-').to_owned()
}

/// A distribution to record invalidations against. Its origin and cache behaviours are the
/// template's business in AWS; the emulator serves no traffic through it, so a minimal
/// configuration stands in (the caller reference names the run's copy).
async fn create_distribution(
    client: &aws_sdk_cloudfront::Client,
    reference: &str,
) -> Result<String> {
    use aws_sdk_cloudfront::types::{
        CustomOriginConfig, DefaultCacheBehavior, DistributionConfig, Origin, OriginProtocolPolicy,
        Origins, ViewerProtocolPolicy,
    };
    let built = |e: aws_sdk_cloudfront::error::BuildError| format!("distribution config: {e}");
    let origin = Origin::builder()
        .id("api")
        .domain_name("api.evreg.test")
        .custom_origin_config(
            CustomOriginConfig::builder()
                .http_port(80)
                .https_port(443)
                .origin_protocol_policy(OriginProtocolPolicy::HttpsOnly)
                .build()
                .map_err(built)?,
        )
        .build()
        .map_err(built)?;
    let config = DistributionConfig::builder()
        .caller_reference(reference)
        .comment(reference)
        .enabled(true)
        .origins(
            Origins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .map_err(built)?,
        )
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("api")
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                .build()
                .map_err(built)?,
        )
        .build()
        .map_err(built)?;
    client
        .create_distribution()
        .distribution_config(config)
        .send()
        .await
        .map_err(|e| format!("CreateDistribution {reference}: {}", sdk_error(&e)))?
        .distribution
        .map(|d| d.id)
        .ok_or_else(|| format!("CreateDistribution {reference}: no distribution").into())
}

async fn create_bucket(
    client: &aws_sdk_s3::Client,
    bucket: &Resource<'_>,
    bucket_name: &str,
) -> Result<()> {
    bucket.check_properties(&[
        // No local effect: the emulator's buckets are private and unencrypted, which the
        // code cannot tell apart from these settings.
        "PublicAccessBlockConfiguration",
        "OwnershipControls",
        "BucketEncryption",
        "LifecycleConfiguration",
        "VersioningConfiguration",
        "Tags",
    ])?;
    let mut request = client.create_bucket().bucket(bucket_name);
    // us-east-1 is the one region that refuses an explicit location constraint.
    let region = client.config().region().map(|r| r.as_ref().to_owned());
    if let Some(region) = region.filter(|r| r != "us-east-1") {
        request = request.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    region.as_str(),
                ))
                .build(),
        );
    }
    request
        .send()
        .await
        .map_err(|e| format!("CreateBucket {bucket_name}: {}", sdk_error(&e)))?;
    Ok(())
}

fn sequence(value: &Value) -> &[Value] {
    value.as_sequence().map_or(&[], Vec::as_slice)
}

fn str_field<'a>(value: &'a Value, key: &str) -> Result<&'a str, String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{key} missing or not a string"))
}

fn key_schema(value: &Value) -> Result<Vec<KeySchemaElement>, String> {
    sequence(value)
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(str_field(k, "AttributeName")?)
                .key_type(KeyType::from(str_field(k, "KeyType")?))
                .build()
                .map_err(|e| e.to_string())
        })
        .collect()
}

fn provisioned_throughput(value: &Value) -> Result<ProvisionedThroughput, String> {
    let units = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_i64)
            .ok_or_else(|| format!("ProvisionedThroughput.{key} missing or not an integer"))
    };
    ProvisionedThroughput::builder()
        .read_capacity_units(units("ReadCapacityUnits")?)
        .write_capacity_units(units("WriteCapacityUnits")?)
        .build()
        .map_err(|e| e.to_string())
}

fn global_secondary_index(value: &Value) -> Result<GlobalSecondaryIndex, String> {
    let index_name = str_field(value, "IndexName")?;
    let projection = value
        .get("Projection")
        .ok_or_else(|| format!("{index_name}: no Projection"))?;
    let non_key_attributes = projection.get("NonKeyAttributes").map(|attributes| {
        sequence(attributes)
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect::<Vec<_>>()
    });
    let projection = Projection::builder()
        .projection_type(ProjectionType::from(
            projection
                .get("ProjectionType")
                .and_then(Value::as_str)
                .unwrap_or("ALL"),
        ))
        .set_non_key_attributes(non_key_attributes)
        .build();
    let mut index = GlobalSecondaryIndex::builder()
        .index_name(index_name)
        .set_key_schema(Some(key_schema(
            value
                .get("KeySchema")
                .ok_or_else(|| format!("{index_name}: no KeySchema"))?,
        )?))
        .projection(projection);
    if let Some(throughput) = value.get("ProvisionedThroughput") {
        index = index.provisioned_throughput(provisioned_throughput(throughput)?);
    }
    index.build().map_err(|e| format!("{index_name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intrinsics_in_short_and_long_form() {
        let values: Vec<Value> = serde_yaml_ng::from_str(
            "[!Ref Topic, !GetAtt Queue.Arn, {Ref: Topic}, {'Fn::GetAtt': [Queue, Arn]}, !Sub x, plain]",
        )
        .unwrap();
        let parsed: Vec<_> = values.iter().map(Intrinsic::of).collect();
        assert_eq!(
            parsed,
            [
                Some(Intrinsic::Ref("Topic")),
                Some(Intrinsic::GetAtt("Queue", "Arn")),
                Some(Intrinsic::Ref("Topic")),
                Some(Intrinsic::GetAtt("Queue", "Arn")),
                None,
                None,
            ]
        );
    }

    #[test]
    fn redrive_policies_resolve_to_json() {
        let value: Value =
            serde_yaml_ng::from_str("{deadLetterTargetArn: !GetAtt DLQ.Arn, maxReceiveCount: 5}")
                .unwrap();
        let resolve = |i: &Intrinsic<'_>| {
            (*i == Intrinsic::GetAtt("DLQ", "Arn")).then(|| "arn:aws:sqs:x:1:dlq".to_owned())
        };
        let json = to_json(&value, &resolve).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"deadLetterTargetArn": "arn:aws:sqs:x:1:dlq", "maxReceiveCount": 5})
        );
        let sub: Value = serde_yaml_ng::from_str("!Sub ${AWS::Region}").unwrap();
        assert!(to_json(&sub, &resolve).is_err());
    }
}
