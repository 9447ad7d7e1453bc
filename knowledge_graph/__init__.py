"""The learner's knowledge graph: skills, prerequisite edges and mastery.

The Django parts (models, services, selectors) sit beside pure algorithm modules (bkt, fitting, graph, recommend)
that import no Django, so they can be tested and benchmarked on their own.
"""
