-- A what-if (`rerule --no-switch`) reads the live version's facts in one snapshot
-- instead of copying them: it holds results only, its fact tables stay empty. Such a
-- version is evaluated again, from the facts as they then are, when it is switched to.
ALTER TABLE assessment.versions ADD COLUMN holds_facts boolean NOT NULL DEFAULT true;
