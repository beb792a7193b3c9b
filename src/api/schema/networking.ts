// Networks, subnets and ports are declared here once their deciders land.
