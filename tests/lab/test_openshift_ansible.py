"""kubernetes.core modules (dynamic client with discovery) against the twin, through ansible-playbook."""

import json
import os
import subprocess
import sys

from openshift_support import NEW_ISSUER, ROOT

pytest_plugins = ["openshift_support"]

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: List CredentialsRequests
      kubernetes.core.k8s_info:
        api_version: cloudcredential.openshift.io/v1
        kind: CredentialsRequest
        namespace: openshift-cloud-credential-operator
      register: crs
    - name: Find the machine-api pods by label
      kubernetes.core.k8s_info:
        kind: Pod
        namespace: openshift-machine-api
        label_selectors: ["app=machine-api-controllers"]
      register: pods
    - name: Read the kube-apiserver ClusterOperator
      kubernetes.core.k8s_info:
        api_version: config.openshift.io/v1
        kind: ClusterOperator
        name: kube-apiserver
      register: co
    - name: Change the issuer (strategic merge is refused for CRs; the module falls back to merge)
      kubernetes.core.k8s:
        state: present
        definition:
          apiVersion: config.openshift.io/v1
          kind: Authentication
          metadata: {name: cluster}
          spec: {serviceAccountIssuer: "NEW_ISSUER"}
      register: auth
    - name: Server-side apply a ConfigMap
      kubernetes.core.k8s:
        state: present
        apply: true
        server_side_apply: {field_manager: lab-test}
        definition:
          apiVersion: v1
          kind: ConfigMap
          metadata: {name: applied, namespace: default}
          data: {a: b}
    - name: Delete a pod (its deployment brings a new one)
      kubernetes.core.k8s:
        state: absent
        kind: Pod
        namespace: openshift-machine-api
        name: "{{ pods.resources[0].metadata.name }}"
    - name: Denied with the read-only token
      kubernetes.core.k8s:
        api_key: "{{ lookup('env', 'READONLY_TOKEN') }}"
        state: present
        definition:
          apiVersion: v1
          kind: ConfigMap
          metadata: {name: denied, namespace: default}
      register: denied
      ignore_errors: true
    - name: Report
      ansible.builtin.copy:
        dest: "{{ lookup('env', 'REPORT') }}"
        content: "{{ {'crs': crs.resources | length, 'pods': pods.resources | map(attribute='metadata.name') | list,
                      'progressing': (co.resources[0].status.conditions | selectattr('type', 'eq', 'Progressing') | first).status,
                      'auth_changed': auth.changed, 'issuer': auth.result.spec.serviceAccountIssuer,
                      'denied': denied.failed, 'denied_msg': denied.msg | default('')} | to_json }}"
"""


def test_k8s_info_and_k8s_through_ansible_playbook(ocp_twin, tmp_path):
    ocp_twin.add_credentials_requests("default")
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK.replace("NEW_ISSUER", NEW_ISSUER))
    report = tmp_path / "report.json"
    env = dict(os.environ, **ocp_twin.test_env)
    env.update(ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "build", "collections"),
               REPORT=str(report), READONLY_TOKEN=ocp_twin.readonly_token, TMPDIR=str(tmp_path), ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible"))
    playbook_bin = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    result = subprocess.run([playbook_bin, "-i", "localhost,", "-c", "local", str(playbook)], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ocp_twin.admin_token not in result.stdout
    data = json.loads(report.read_text())
    assert data["crs"] == 8 and len(data["pods"]) == 1 and data["progressing"] == "False"
    assert data["auth_changed"] is True and data["issuer"] == NEW_ISSUER
    assert data["denied"] is True and "403" in data["denied_msg"]
    assert ocp_twin.request_count(method="PATCH", path="/authentications/cluster$", status=415) == 1
    assert ocp_twin.request_count(method="GET", path="^/apis$") >= 1  # discovery
    assert ocp_twin.get("ConfigMap", "applied", "default")["metadata"]["managedFields"][0]["manager"] == "lab-test"
    pods = ocp_twin.list("Pod", "openshift-machine-api")
    assert len(pods) == 1 and pods[0]["metadata"]["name"] != data["pods"][0]
    assert ocp_twin.get("KubeAPIServer", "cluster")["status"]["serviceAccountIssuers"][0] == {"name": NEW_ISSUER}
