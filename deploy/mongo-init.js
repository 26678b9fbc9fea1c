// The one-shot mongo-init service of docker-compose.yml, run with mongosh against mongo-1 after
// all three members are healthy. Safe to run again: it initiates rs0 only once, and creates (or
// updates, if .env changed) the application's user, which may only read and write MONGO_DB.
const rootPassword = process.env.MONGO_ROOT_PASSWORD;
const appPassword = process.env.MONGO_APP_PASSWORD;
const appDb = process.env.MONGO_DB || "orderline";
const admin = db.getSiblingDB("admin");
admin.auth("root", rootPassword);

try {
  rs.status();
  print("replica set rs0 already initiated");
} catch (e) {
  if (e.codeName !== "NotYetInitialized") throw e;
  rs.initiate({
    _id: "rs0",
    members: [
      { _id: 0, host: "mongo-1:27017", priority: 2 },
      { _id: 1, host: "mongo-2:27017", priority: 1 },
      { _id: 2, host: "mongo-3:27017", priority: 1 },
    ],
  });
  print("replica set rs0 initiated");
}

// Users are written on the primary, wherever it is.
let primary = null;
for (let i = 0; i < 120 && !primary; i++) {
  const hello = admin.runCommand({ hello: 1 });
  if (hello.isWritablePrimary) primary = admin;
  else if (hello.primary) {
    primary = new Mongo(hello.primary).getDB("admin");
    primary.auth("root", rootPassword);
  } else sleep(1000);
}
if (!primary) throw new Error("no primary was elected within 120 s");

const roles = [{ role: "readWrite", db: appDb }];
if (primary.getUser("orderline")) {
  primary.updateUser("orderline", { pwd: appPassword, roles: roles });
  print("user orderline updated");
} else {
  primary.createUser({ user: "orderline", pwd: appPassword, roles: roles });
  print("user orderline created");
}
