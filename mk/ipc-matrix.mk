# Cross-process ports across languages: the matrix test (every ordered pair of C, Python and
# Node as parent and child, with the third language streaming through a port that moves) and
# the cross-language demo (a Python parent, a Node child and a C child).
#
# The agents: build/ipc/agent-c (target ipc-agent-c, mk/c.mk), tests/ipc/agent.py run by the
# interpreter of the venv test-python installs the wheel into, tests/ipc/agent.js with the addon
# that build-node makes. Variables of other mk files are used in recipes only (expanded late), and
# prerequisites are their phony targets, so the include order does not matter.

# IPC_BUILD (build/ipc) comes from mk/c.mk.
IPC_MATRIX_ENV = WM_AGENT_C='["$(IPC_BUILD)/agent-c"]' \
	WM_AGENT_PY='["$(PY_TEST_VENV)/bin/python", "$(ROOT)/tests/ipc/agent.py"]' \
	WM_AGENT_NODE='["$(NODE)", "$(ROOT)/tests/ipc/agent.js"]' \
	WM_VECTORS=$(ROOT)/tests/vectors/v8-vectors.json

.PHONY: test-ipc-matrix test-ipc-matrix-python demo-ipc
TEST_TARGETS += test-ipc-matrix
DEMO_TARGETS += demo-ipc

# The six ordered pairs, 60 s each at most.
test-ipc-matrix: ipc-agent-c build-node python-test-venv
	$(IPC_MATRIX_ENV) $(PY_TEST_VENV)/bin/python $(ROOT)/tests/ipc/run_matrix.py

# Python alone (python -> python, third python): needs neither C nor Node.
test-ipc-matrix-python: python-test-venv
	$(IPC_MATRIX_ENV) $(PY_TEST_VENV)/bin/python $(ROOT)/tests/ipc/run_matrix.py --only python

# A Python parent spawns a Node child and a C child and hands them the two ends of a channel.
demo-ipc: ipc-child-c build-node python-install
	NODE=$(NODE) $(PY) $(ROOT)/examples/ipc/main.py
