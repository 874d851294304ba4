"""Building a scenario's world through the twins' own APIs.

The AWS side is made with plain boto3 calls against the AWS twin's endpoint,
in the order ccoctl (or a user following the CCO docs) makes them (field
notes §6.2, §6.6, §6.7, §6.9, §5), so the twin's request log shows how the
world came to be, refusals included. The cluster side is a
:class:`lab.openshift.ClusterTwin` joined to the lab as a component.
"""

import concurrent.futures
import hashlib
import json
import os
import ssl

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from lab.openshift import ClusterTwin
from lab.openshift import credentials as creds
from lab.openshift import keys as keymod
from lab.scenarios.loader import FAULT_KNOBS, load_scenario, ScenarioError
from lab.world import DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY

TAG_PREFIX = "openshift.io/cloud-credential-operator"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
DISCOVERY_KEY = ".well-known/openid-configuration"
KEYS_KEY = "keys.json"
ROLE_WORKERS = 4
CORRUPT_DISCOVERY = ("<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>"
                     "<p>The requested URL was not found on this server.</p></body></html>")
CORRUPT_JWKS = '{\n    "keys": [\n        {\n            "use": "sig",\n            "kty": "RSA",\n'


# ---------------------------------------------------------------- ccoctl formats
def discovery_json(issuer, jwks_uri=None):
    """The discovery document exactly as ccoctl writes it (its template's mixed indentation included)."""
    jwks_uri = jwks_uri if jwks_uri is not None else f"{issuer}/{KEYS_KEY}"
    return ('{\n\t"issuer": "%s",\n\t"jwks_uri": "%s",\n'
            '    "response_types_supported": [\n        "id_token"\n    ],\n'
            '    "subject_types_supported": [\n        "public"\n    ],\n'
            '    "id_token_signing_alg_values_supported": [\n        "RS256"\n    ],\n'
            '    "claims_supported": [\n        "aud",\n        "exp",\n        "sub",\n        "iat",\n'
            '        "iss",\n        "sub"\n    ]\n}') % (issuer, jwks_uri)


def jwks_json(public_keys):
    """``keys.json`` as ccoctl writes it: go-jose field order, 4-space indent, no trailing newline."""
    return json.dumps({"keys": [keymod.jwk(key) for key in public_keys]}, indent=4)


def trust_policy_json(provider_arn, condition_host, subjects):
    """The trust policy exactly as ccoctl's string formatting builds it (§6.7)."""
    listed = ""
    for index, subject in enumerate(subjects):
        listed = f'[ "{subject}" ' if index == 0 else f'{listed} , "{subject}"'
    listed += " ]"
    condition = f' {{ "StringEquals": {{ "{condition_host}:sub": {listed} }} }}'
    return ('{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "Federated": "%s" }, '
            '"Action": "sts:AssumeRoleWithWebIdentity", "Condition": %s } ] }') % (provider_arn, condition)


def role_policy_json(credentials_request):
    """The inline role policy ccoctl derives from ``statementEntries`` (Go ``json.Marshal``: compact)."""
    statements = []
    for entry in credentials_request["spec"]["providerSpec"].get("statementEntries", []):
        statement = {"Effect": entry["effect"], "Action": entry["action"], "Resource": entry["resource"]}
        if entry.get("policyCondition"):
            statement["Condition"] = entry["policyCondition"]
        statements.append(statement)
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":"))


def public_read_policy(bucket, partition="aws"):
    """ccoctl's public-read bucket policy (§6.2 step 4)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "AllowReadPublicAccess", "Principal": "*", "Effect": "Allow", "Action": ["s3:GetObject"],
        "Resource": [f"arn:{partition}:s3:::{bucket}/*"]}]}, indent="\t")


def oai_policy(oai_id, bucket):
    """ccoctl's OAI bucket policy (§6.9 step 2; partition ``aws`` hard-coded as in ccoctl)."""
    return json.dumps({"Version": "2008-10-17", "Id": "PolicyForCloudFrontPrivateContent", "Statement": [{
        "Sid": "1", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {oai_id}"},
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}, indent=4)


def oac_policy(bucket, distribution_arn, partition="aws"):
    """The OAC bucket-policy statement of the CloudFront developer guide (§5)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "AllowCloudFrontServicePrincipalReadOnly", "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
        "Resource": f"arn:{partition}:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}}}]})


def credentials_requests(spec):
    """The CredentialsRequest objects a scenario's cluster has (field notes §8, generated, or explicit)."""
    requests = spec["cluster"]["credentials_requests"]
    if requests == "default":
        return creds.default_aws_credentials_requests()
    if isinstance(requests, dict):
        return creds.generated_credentials_requests(int(requests["count"]))
    result = []
    for entry in requests:
        obj = creds.credentials_request(entry["name"], entry["namespace"], entry["secret"], entry["service_accounts"],
                                        entry.get("actions") or ("sts:GetCallerIdentity",), entry.get("capability", ""))
        if entry.get("file"):
            obj["metadata"].setdefault("annotations", {})["lab.openshift.io/file"] = entry["file"]
        result.append(obj)
    return result


# ---------------------------------------------------------------- the world
class WorldComponent:
    """The scenario's piece of a :class:`lab.world.Lab`: the cluster twin (if any) and the world's variables."""

    def __init__(self, world, twin=None, env_dir=None):
        self.world = world
        self.twin = twin
        self.env_dir = env_dir
        self.world_file = None

    def attach(self, lab):
        """Called by the lab before :meth:`start`."""
        if self.env_dir is None:
            self.env_dir = os.path.join(lab.state_dir, "openshift")

    def start(self):
        """Start the cluster twin."""
        if self.twin is not None:
            self.twin.start()

    def stop(self):
        """Stop the cluster twin."""
        if self.twin is not None:
            self.twin.stop()

    def env(self):
        """``LAB_SCENARIO`` (+ ``LAB_WORLD_FILE``) and, with a cluster, what AAP's OpenShift credential injects."""
        env = {"LAB_SCENARIO": self.world.name}
        if self.world_file:
            env["LAB_WORLD_FILE"] = self.world_file
        if self.twin is not None:
            cluster_env = self.twin.env(self.env_dir)
            cluster_env["K8S_AUTH_KUBECONFIG"] = cluster_env["KUBECONFIG"]
            env.update(cluster_env)
        return env


class World:  # pylint: disable=too-many-instance-attributes  # a plain record of what was built
    """What :func:`build_world` built: handles, names, ARNs, keys and the scenario's expectations."""

    def __init__(self, lab, spec):
        self.lab = lab
        self.spec = spec
        self.name = spec["name"]
        self.expect = spec.get("expect") or {}
        aws = spec["aws"]
        self.account_id = aws["account"]
        self.region = aws["region"]
        self.partition = aws["partition"]
        self.hosting = aws["hosting"]["type"]
        self.cluster_name = spec["cluster"]["name"]
        self.bucket = aws["hosting"]["bucket"] or f"{self.cluster_name}-oidc"
        self.issuer = None
        self.hosting_issuer = None
        self.provider_arn = None
        self.provider_url = None
        self.provider_created = False
        self.distribution_id = None
        self.distribution_domain = None
        self.oac_id = None
        self.oai_id = None
        self.credentials_requests = []
        self.roles = []
        self.signing_key = None
        self.previous_keys = []
        self.published_kids = []
        self.events = []
        self.cluster = None
        self.component = None

    # ------------------------------------------------------------ derived views
    @property
    def issuer_host(self):
        """The issuer without ``https://`` (host and path): the IAM provider URL and condition-key form."""
        return self.issuer[len("https://"):] if self.issuer else None

    @property
    def role_arns(self):
        """``{CredentialsRequest name: role ARN}`` (the ARN in its Secret, whether the role exists or not)."""
        return {role["credentials_request"]: role["role_arn"] for role in self.roles}

    def service_accounts(self):
        """``(namespace, service account, role ARN, CredentialsRequest name, trust)`` for every workload."""
        result = []
        for role in self.roles:
            for sa_name in role["service_accounts"]:
                result.append((role["secret_namespace"], sa_name, role["role_arn"], role["credentials_request"],
                               role["trust"]))
        return result

    def env(self):
        """The lab's environment variables, including the cluster's."""
        return self.lab.env()

    def summary(self):
        """A JSON-friendly description (written to ``world.json`` by the CLI)."""
        return {
            "scenario": self.name, "description": self.spec.get("description"), "source": self.spec.get("source"),
            "account_id": self.account_id, "region": self.region, "partition": self.partition,
            "hosting": self.hosting, "bucket": self.bucket, "issuer": self.issuer,
            "hosting_issuer": self.hosting_issuer, "provider_arn": self.provider_arn,
            "provider_url": self.provider_url, "provider_created": self.provider_created,
            "distribution_id": self.distribution_id, "distribution_domain": self.distribution_domain,
            "signing_key_id": keymod.key_id(self.signing_key) if self.signing_key is not None else None,
            "previous_key_ids": [keymod.key_id(k) for k in self.previous_keys],
            "published_kids": list(self.published_kids),
            "roles": [dict(role) for role in self.roles],
            "cluster_url": self.cluster.url if self.cluster is not None else None,
            "events": list(self.events), "expect": self.expect,
        }

    def write_install_dir(self, directory):
        """Write the install directory of this world (see :func:`lab.scenarios.installdir.write_install_dir`)."""
        from lab.scenarios.installdir import write_install_dir  # pylint: disable=import-outside-toplevel  # no cycle at import
        return write_install_dir(self, directory)

    def close(self):
        """Stop the cluster twin and detach it from the lab (the AWS state stays until the lab is reset)."""
        if self.component is not None:
            self.component.stop()
            if self.component in self.lab.components:
                self.lab.components.remove(self.component)
            self.component = None


# ---------------------------------------------------------------- building
class _Builder:  # pylint: disable=too-many-instance-attributes
    def __init__(self, lab, spec, world):
        self.lab = lab
        self.spec = spec
        self.world = world
        self.name = spec["cluster"]["name"]
        self.region = world.region
        self.tags = [{"Key": f"{TAG_PREFIX}/{self.name}", "Value": "owned"}, {"Key": "Name", "Value": self.name}]
        self.object_tagging = f"{TAG_PREFIX}/{self.name}=owned&Name={self.name}"
        self.s3 = self.client("s3", self.region)
        self.iam = self.client("iam")

    def client(self, service, region=None):
        """A boto3 client for the AWS twin (dummy credentials, a few retries)."""
        session = boto3.session.Session(aws_access_key_id=DUMMY_ACCESS_KEY, aws_secret_access_key=DUMMY_SECRET_KEY,
                                        region_name=region or self.region)
        config = Config(retries={"total_max_attempts": 3, "mode": "standard"}, max_pool_connections=16)
        client = session.client(service, endpoint_url=self.lab.aws.url, config=config)
        if service == "s3control":
            client.meta.events.register("before-sign.s3-control.*", _strip_account_prefix)
        return client

    def event(self, text):
        """Record a notable build step (refusals, tolerated errors)."""
        self.world.events.append(text)

    # ------------------------------------------------------------ S3
    def create_bucket(self):
        """ccoctl's CreateBucket; True if the bucket was new (BucketAlreadyOwnedByYou tolerated)."""
        kwargs = {} if self.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
        try:
            self.s3.create_bucket(Bucket=self.world.bucket, **kwargs)
            return True
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
            self.event(f"CreateBucket {self.world.bucket}: {code} (tolerated; ccoctl then skips BPA and policy)")
            return False

    def tag_bucket(self):
        """ccoctl's PutBucketTagging."""
        self.s3.put_bucket_tagging(Bucket=self.world.bucket, Tagging={"TagSet": self.tags})

    def put_public_policy(self):
        """ccoctl's bucket-level BPA (policies allowed) then its public-read policy; refusals are recorded."""
        bucket = self.world.bucket
        self.s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False})
        try:
            self.s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket, self.world.partition))
        except ClientError as error:
            self.event(f"PutBucketPolicy {bucket}: {error.response['Error']['Code']} "
                       f"({error.response['Error']['Message']})")

    def block_all(self, level):
        """Turn on all four Block Public Access flags at ``bucket`` or ``account`` level."""
        flags = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                 "RestrictPublicBuckets": True}
        if level == "account":
            self.client("s3control").put_public_access_block(AccountId=self.world.account_id,
                                                             PublicAccessBlockConfiguration=flags)
        else:
            self.s3.put_public_access_block(Bucket=self.world.bucket, PublicAccessBlockConfiguration=flags)

    def put_document(self, key, body):
        """Upload one issuer document as ccoctl does: untyped, no ACL, tagged."""
        self.s3.put_object(Bucket=self.world.bucket, Key=key, Body=body.encode("utf-8"), Tagging=self.object_tagging)

    # ------------------------------------------------------------ hosting
    def host_public_s3(self):
        """§6.2: the default (public) flow."""
        if self.create_bucket():
            self.tag_bucket()
            self.put_public_policy()
        else:
            self.tag_bucket()

    def host_private_s3(self):
        """The April-2023 reality: ccoctl's public policy refused (before) or neutralised (after)."""
        hosting = self.spec["aws"]["hosting"]
        level, locked = hosting["block_public_access"], hosting["locked"]
        if locked == "before-ccoctl":
            if level == "bucket":
                # The bucket exists before ccoctl runs (new-bucket defaults: all four flags on, no policy);
                # ccoctl tolerates BucketAlreadyOwnedByYou and then re-applies neither BPA nor its policy.
                self.create_bucket()
                self.event(f"bucket {self.world.bucket} pre-created with the April-2023 defaults")
                self.create_bucket()
                self.tag_bucket()
            else:
                self.block_all("account")
                self.event("account-level Block Public Access on before ccoctl ran")
                self.host_public_s3()
        else:
            self.host_public_s3()
            self.block_all(level)
            self.event(f"{level}-level Block Public Access turned on after ccoctl ran")

    def _distribution_config(self, origin_domain, origin_access):
        origin = {"Id": f"https://{origin_domain}", "DomainName": origin_domain, "OriginPath": "",
                  "CustomHeaders": {"Quantity": 0}, "ConnectionAttempts": 3, "ConnectionTimeout": 10,
                  "OriginShield": {"Enabled": False}}
        origin.update(origin_access)
        return {
            "CallerReference": self.name, "Aliases": {"Quantity": 0},
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": {
                "TargetOriginId": origin["Id"], "ViewerProtocolPolicy": "https-only",
                "AllowedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"],
                                   "CachedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]}},
                "Compress": False, "CachePolicyId": CACHING_DISABLED,
            },
            "Comment": f"{TAG_PREFIX}/{self.name}", "PriceClass": "PriceClass_All", "Enabled": True,
            "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
        }

    def host_cloudfront(self, kind):
        """§6.9 (OAI, ccoctl --create-private-s3-bucket) or the same with OAC (CloudFront DG, §5)."""
        hosting = self.spec["aws"]["hosting"]
        bucket = self.world.bucket
        cloudfront = self.client("cloudfront", "us-east-1")
        self.lab.aws.cloudfront.deploy_seconds = float(hosting["deploy_seconds"])
        regional = f"{bucket}.s3.{self.region}.amazonaws.com"
        origin_domain = regional if hosting["origin"] == "regional" else f"{bucket}.s3.amazonaws.com"
        self.create_bucket()
        self.tag_bucket()
        if kind == "oai":
            oai = cloudfront.create_cloud_front_origin_access_identity(CloudFrontOriginAccessIdentityConfig={
                "CallerReference": self.name, "Comment": f"{TAG_PREFIX}/{self.name}"})
            self.world.oai_id = oai["CloudFrontOriginAccessIdentity"]["Id"]
            self.s3.put_bucket_policy(Bucket=bucket, Policy=oai_policy(self.world.oai_id, bucket))
            self.block_all("bucket")
            access = {"S3OriginConfig": {"OriginAccessIdentity": f"origin-access-identity/cloudfront/{self.world.oai_id}"}}
        else:
            oac = cloudfront.create_origin_access_control(OriginAccessControlConfig={
                "Name": f"{self.name}-oidc", "Description": f"{TAG_PREFIX}/{self.name}", "SigningProtocol": "sigv4",
                "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"})
            self.world.oac_id = oac["OriginAccessControl"]["Id"]
            access = {"OriginAccessControlId": self.world.oac_id, "S3OriginConfig": {"OriginAccessIdentity": ""}}
        created = cloudfront.create_distribution_with_tags(DistributionConfigWithTags={
            "DistributionConfig": self._distribution_config(origin_domain, access),
            "Tags": {"Items": [{"Key": "Name", "Value": self.name}]}})["Distribution"]
        self.world.distribution_id = created["Id"]
        self.world.distribution_domain = created["DomainName"]
        if kind == "oac":
            self.s3.put_bucket_policy(Bucket=bucket, Policy=oac_policy(bucket, created["ARN"], self.world.partition))
        if hosting["origin"] == "global":
            self.event(f"distribution origin on the global endpoint {origin_domain}")
        return f"https://{created['DomainName']}"

    def host(self):
        """Create the hosting and return the URL where the documents are served."""
        kind = self.spec["aws"]["hosting"]["type"]
        if kind == "public-s3":
            self.host_public_s3()
        elif kind == "private-s3":
            self.host_private_s3()
        elif kind in ("cloudfront-oac", "cloudfront-oai"):
            return self.host_cloudfront(kind.rsplit("-", 1)[1])
        else:
            return "https://" + self.spec["aws"]["hosting"]["host"].strip("/")
        return f"https://{self.world.bucket}.s3.{self.region}.amazonaws.com"

    # ------------------------------------------------------------ documents
    def documents(self, trusted_keys, stale_keys):
        """``{key: body}`` of the issuer documents as the scenario describes them."""
        world, docs = self.world, {}
        state = self.spec["aws"]["documents"]
        discovery = state["discovery"]
        if isinstance(discovery, dict):
            docs[DISCOVERY_KEY] = discovery_json(discovery.get("issuer") or world.issuer,
                                                 discovery.get("jwks_uri") or f"{world.issuer}/{KEYS_KEY}")
        elif discovery == "correct":
            docs[DISCOVERY_KEY] = discovery_json(world.issuer)
        elif discovery == "stale":
            s3_url = f"https://{world.bucket}.s3.{self.region}.amazonaws.com"
            other = s3_url if world.issuer != s3_url else f"https://{world.bucket}.s3.amazonaws.com"
            docs[DISCOVERY_KEY] = discovery_json(other)
        elif discovery == "corrupt":
            docs[DISCOVERY_KEY] = CORRUPT_DISCOVERY
        jwks = state["jwks"]
        if jwks == "correct":
            docs[KEYS_KEY] = jwks_json(trusted_keys)
            world.published_kids = [keymod.key_id(k) for k in trusted_keys]
        elif jwks == "stale":
            docs[KEYS_KEY] = jwks_json(stale_keys)
            world.published_kids = [keymod.key_id(k) for k in stale_keys]
        elif jwks == "corrupt":
            docs[KEYS_KEY] = CORRUPT_JWKS
        return docs

    def publish(self, docs):
        """Upload to the bucket, or serve from the custom host."""
        if self.spec["aws"]["hosting"]["type"] == "custom-host":
            host, _sep, prefix = self.spec["aws"]["hosting"]["host"].strip("/").partition("/")
            base = "/" + prefix if prefix else ""
            self.lab.internet.register_host(host, documents={
                f"{base}/{key}": (body, "application/json") for key, body in docs.items()})
            return
        for key, body in docs.items():
            self.put_document(key, body)

    # ------------------------------------------------------------ IAM
    def thumbprint(self):
        """SHA-1 of the last certificate the issuer presents (the lab CA), 40 upper-case hex characters."""
        der = ssl.PEM_cert_to_DER_cert(self.lab.ca.cert_pem.decode("ascii"))
        return hashlib.sha1(der).hexdigest().upper()  # nosec - the IAM thumbprint format is SHA-1 by definition

    def provider(self):
        """The IAM OIDC provider (create-identity-provider), or its absence."""
        world, spec = self.world, self.spec["aws"]["oidc_provider"]
        url = {"exact": world.issuer, "trailing-slash": world.issuer + "/"}.get(spec["url"], spec["url"])
        world.provider_url = url
        world.provider_arn = f"arn:{world.partition}:iam::{world.account_id}:oidc-provider/{url[len('https://'):]}"
        if not spec["present"]:
            self.event(f"no IAM OIDC provider for {world.issuer} (roles reference {world.provider_arn})")
            return
        arn = self.iam.create_open_id_connect_provider(Url=url, ClientIDList=list(spec["client_ids"]),
                                                       ThumbprintList=[self.thumbprint()])["OpenIDConnectProviderArn"]
        self.iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=self.tags)
        world.provider_arn = arn
        world.provider_created = True

    def roles(self, requests):
        """create-iam-roles: one role per CredentialsRequest, trust right or wrong as the scenario says."""
        world, spec = self.world, self.spec["aws"]["roles"]
        condition_host = world.provider_url[len("https://"):]
        old_host = f"{self.name}-old-oidc.s3.{self.region}.amazonaws.com"
        calls = []
        for request in requests:
            ref = request["spec"]["secretRef"]
            cr_name = request["metadata"]["name"]
            trust = (spec.get("overrides") or {}).get(cr_name, spec["trust"])
            role_name = creds.role_name(self.name, request)
            arn = creds.role_arn(world.account_id, role_name, world.partition)
            sas = list(request["spec"]["serviceAccountNames"])
            subjects = [f"system:serviceaccount:{ref['namespace']}:{sa}" for sa in sas]
            federated, host = world.provider_arn, condition_host
            if trust == "wrong-subject":
                namespace = request["metadata"].get("namespace") or creds.CCO_NAMESPACE
                namespace = namespace if namespace != ref["namespace"] else "default"
                subjects = [f"system:serviceaccount:{namespace}:{sa}" for sa in sas]
            elif trust == "wrong-provider":
                federated = f"arn:{world.partition}:iam::{world.account_id}:oidc-provider/{old_host}"
                host = old_host
            world.roles.append({
                "credentials_request": cr_name, "role_name": role_name, "role_arn": arn, "trust": trust,
                "secret_namespace": ref["namespace"], "secret_name": ref["name"], "service_accounts": sas,
                "subjects": subjects, "federated": federated,
            })
            if trust != "missing":
                calls.append((role_name, f"OpenShift role for {ref['namespace']}/{ref['name']}",
                              trust_policy_json(federated, host, subjects), role_policy_json(request)))

        def create(call):
            role_name, description, trust_policy, role_policy = call
            self.iam.create_role(RoleName=role_name, Description=description, AssumeRolePolicyDocument=trust_policy,
                                 Tags=self.tags)
            self.iam.put_role_policy(RoleName=role_name, PolicyName=role_name, PolicyDocument=role_policy)

        # ccoctl creates roles one after the other; the lab uses a few workers (same calls, same result).
        with concurrent.futures.ThreadPoolExecutor(ROLE_WORKERS) as pool:
            list(pool.map(create, calls))
        missing = [r["role_name"] for r in world.roles if r["trust"] == "missing"]
        if missing:
            self.event(f"roles not created: {', '.join(missing)}")

    # ------------------------------------------------------------ faults
    def faults(self, twin):
        """Pass the scenario's faults to the lab's FaultPlan and the cluster twin."""
        for fault in self.spec["faults"]:
            if fault.get("twin") == "openshift":
                if twin is None:
                    continue
                if "latency" in fault:
                    twin.latency = float(fault["latency"])
                if "pattern" in fault:
                    twin.add_fault(fault["pattern"], status=fault.get("status", 500), count=fault.get("count", 1),
                                   method=fault.get("method"), delay=float(fault.get("delay", 0.0)),
                                   message=fault.get("message"))
                continue
            target = fault["target"]
            if target == "issuer":
                target = self.world.hosting_issuer[len("https://"):].split("/", 1)[0]
            knobs = {k: fault[k] for k in FAULT_KNOBS if k in fault}
            self.lab.faults.configure(target, **knobs)


def _strip_account_prefix(request, **_kwargs):
    """s3control prefixes the host with the account id; the loopback endpoint has no such name."""
    scheme, rest = request.url.split("://", 1)
    host, path = rest.partition("/")[::2]
    if host.split(".", 1)[0].isdigit() and host.count(".") > 3:
        request.url = f"{scheme}://{host.split('.', 1)[1]}/{path}"


def build_world(lab, scenario, params=None, cluster=True, env_dir=None):
    """Build ``scenario`` in a started :class:`lab.world.Lab` and return the :class:`World`.

    ``scenario``: a shipped name, a file path or a parsed mapping; ``params``:
    parameter values and dotted-path overrides (as ``--set``). With
    ``cluster=False`` only the AWS side is built (a world before install: no
    API server runs; keys and CredentialsRequests are still in the World for
    :meth:`World.write_install_dir`). ``env_dir``: where the cluster's CA and
    kubeconfig are written (default ``<lab state dir>/openshift``).
    """
    spec = load_scenario(scenario, params)
    if spec["aws"]["account"] != lab.aws.account_id:
        raise ScenarioError(f"aws.account {spec['aws']['account']}: the AWS twin serves only account "
                            f"{lab.aws.account_id}")
    if spec["aws"]["partition"] != "aws":
        raise ScenarioError("the AWS twin models the aws partition only")
    world = World(lab, spec)
    builder = _Builder(lab, spec, world)
    cluster_spec = spec["cluster"]
    key_size = cluster_spec["signing_keys"]["key_size"]
    world.signing_key = keymod.generate_key(key_size)
    world.previous_keys = [keymod.generate_key(key_size)] if cluster_spec["signing_keys"]["rotated"] else []
    stale_keys = world.previous_keys or [keymod.generate_key(key_size)]
    trusted = world.previous_keys + [world.signing_key]
    requests = credentials_requests(spec)
    world.credentials_requests = requests

    world.hosting_issuer = builder.host()
    world.issuer = cluster_spec["issuer"] or world.hosting_issuer
    builder.publish(builder.documents(trusted, stale_keys))
    if spec["aws"]["sts"].get("idp_timeout") is not None:
        lab.aws.sts.idp_timeout = float(spec["aws"]["sts"]["idp_timeout"])
    builder.provider()
    builder.roles(requests)

    twin = None
    if cluster:
        tokens = cluster_spec["tokens"]
        twin = ClusterTwin(lab.ca, issuer=world.issuer, signing_keys=[world.signing_key],
                           previous_keys=world.previous_keys, rollout_seconds=float(cluster_spec["rollout_seconds"]),
                           clock=lab.clock, cluster_name=cluster_spec["name"], base_domain=cluster_spec["base_domain"],
                           infra_name=cluster_spec["infra_name"], region=world.region, account_id=world.account_id,
                           partition=world.partition, key_size=key_size, shared_log=lab.log, fault_plan=lab.faults)
        world.cluster = twin
    world.component = WorldComponent(world, twin, env_dir)
    lab.add_component(world.component)
    if twin is not None:
        twin.add_credentials_requests(requests, account_id=world.account_id, partition=world.partition,
                                      role_arns=world.role_arns, infra_name=builder.name,
                                      token_audience=cluster_spec["tokens"]["audience"],
                                      token_expiration_seconds=cluster_spec["tokens"]["expiration_seconds"])
    builder.faults(twin)
    return world
